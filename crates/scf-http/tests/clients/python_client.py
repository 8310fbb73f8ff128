"""Drives the official Tencent Cloud Python SDK (unchanged) against a local scf-http server.

Usage: python_client.py --port PORT --secret-id ID --secret-key KEY
                        [--clock-offset SECONDS] ACTION PARAMS_JSON|@FILE

Prints one JSON line: {"ok": <the Response object as the SDK parsed it>} or
{"error": {"code", "message", "requestId"}} for a TencentCloudSDKException.
--clock-offset moves the clock the SDK signs with (to test expired signatures).
"""
import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", required=True)
parser.add_argument("--secret-id", required=True)
parser.add_argument("--secret-key", required=True)
parser.add_argument("--clock-offset", type=int, default=0)
parser.add_argument("action")
parser.add_argument("params")
args = parser.parse_args()

if args.clock_offset:
    real_time = time.time
    time.time = lambda: real_time() + args.clock_offset

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models, scf_client

http_profile = HttpProfile(protocol="http", endpoint="127.0.0.1:%s" % args.port, reqMethod="POST")
profile = ClientProfile(httpProfile=http_profile, signMethod="TC3-HMAC-SHA256")
client = scf_client.ScfClient(credential.Credential(args.secret_id, args.secret_key), "ap-guangzhou", profile)

request = getattr(models, args.action + "Request")()
# `@FILE`: the parameters are in FILE (too large for an argument).
params = open(args.params[1:]).read() if args.params.startswith("@") else args.params
request.from_json_string(params)
try:
    response = getattr(client, args.action)(request)
    print(json.dumps({"ok": json.loads(response.to_json_string())}))
except TencentCloudSDKException as e:
    print(json.dumps({"error": {"code": e.get_code(), "message": e.get_message(), "requestId": e.get_request_id()}}))
sys.stdout.flush()
