"""Runs tccli (unchanged) with its clock moved by --clock-offset seconds, then its usual
arguments: tccli_client.py --clock-offset -600 -- scf Invoke --endpoint ... .

Only for the expired-timestamp test; every other test runs the tccli executable itself.
"""
import sys
import time

args = sys.argv[1:]
offset = 0
if args[:1] == ["--clock-offset"]:
    offset = int(args[1])
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]
if offset:
    real_time = time.time
    time.time = lambda: real_time() + offset

from tccli.main import main

sys.argv = ["tccli"] + args
sys.exit(main())
