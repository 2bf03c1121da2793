#!/bin/sh
# The conformance tests of tiktok-live-sim against the real tiktok-live-connector 1.2.3 and
# 2.5.0 (tests/conformance/run.py says what they check). B is the build directory of the
# simulator (default build); the Node drivers are tests/oracle. Ends with `N passed, N failed`;
# exits non-zero on any failure, including a missing node or library (`make deps`).
# SPDX-License-Identifier: MIT
cd "$(dirname "$0")/../.." || exit 2
command -v python3 >/dev/null 2>&1 || { echo "conformance: python3 is missing"; echo "0 passed, 1 failed"; exit 1; }
exec python3 tests/conformance/run.py "$@"
