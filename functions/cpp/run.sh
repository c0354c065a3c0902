#!/bin/bash
# CppFunction's handler. Lambda Web Adapter (the layer's /opt/bootstrap, via AWS_LAMBDA_EXEC_WRAPPER)
# runs this script, waits until the port accepts connections, then turns each API Gateway event into an
# HTTP request to it and streams the response back (AWS_LWA_INVOKE_MODE=response_stream).
#
# /opt/python is the shared layer (the cursor_gateway package and its dependencies); outside Lambda the
# caller puts the source layer on PYTHONPATH instead. uvicorn binds loopback only: LWA is its one client.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PYTHONPATH="/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m uvicorn app:app \
    --app-dir "$here" \
    --host 127.0.0.1 \
    --port "${PORT:-8080}" \
    --lifespan off \
    --no-access-log \
    --timeout-graceful-shutdown 2
