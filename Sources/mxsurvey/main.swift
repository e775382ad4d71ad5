print("mxsurvey")
