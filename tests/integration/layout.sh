#!/usr/bin/env bash
# The tree shows the architecture (docs/architecture.md): one folder per
# subsystem, folders include only folders below them, and no include or
# call cycles between files (tools/layering.py).
source "$(dirname "$0")/../lib.sh"
/usr/bin/python3 "$ROOT/tools/layering.py"
