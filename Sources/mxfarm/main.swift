print("mxfarm")
