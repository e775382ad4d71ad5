#!/bin/sh
# Builds and runs the SurveyTLS tests (in-memory engine pairs and real `openssl s_server`
# processes on 127.0.0.1).
set -eu
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --filter SurveyTLSTests
