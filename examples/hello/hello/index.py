# -*- coding: utf8 -*-
import json
import os


def main_handler(event, context):
    print("Received event: " + json.dumps(event))
    greeting = os.environ.get("GREETING", "hello")
    if "requestContext" in event:
        # Called through API Gateway: answer with an integration response.
        return {
            "isBase64Encoded": False,
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"message": greeting + " from scf", "path": event.get("path")}),
        }
    if "key" in event:
        return event["key"]
    return {"message": greeting + " from scf", "event": event}
