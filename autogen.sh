#!/bin/sh
# Generates ./configure and the Makefile.in templates from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4
exec autoreconf --install --force --warnings=all
