#!/bin/bash
# The bad-input corpus (tests/hostile/) as a host-tier test.
exec bash "$(dirname "$0")/../hostile/run" "$@"
