#!/usr/bin/env bash
# A 100,000-row nodes.csv read and written again is byte-identical (tests/roundtrip/roundtrip.sh).
exec bash "$(dirname "$0")/../roundtrip/roundtrip.sh"
