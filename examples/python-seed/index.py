# -*- coding: utf8 -*-
"""The seed's Python examples (SCF's Python templates) as a real function directory.

Run with scf-process: Runtime `Python3.9`, handler `index.main_handler` (or
`index.always_failed_handler`, `index.register_handler`).
"""


class UserNameAlreadyExistsException(Exception):
    """Raised when a user name is taken; SCF reports the class name as the error type."""


def main_handler(event, context):
    print(event)
    return event["key"]


def always_failed_handler(event, context):
    raise Exception('I failed!')


def register_handler(event, context):
    raise UserNameAlreadyExistsException('user name %s already exists' % event.get("username"))
