'use strict';
// The seed's examples for the Node.js runtime as a real function directory.
// Run with scf-process: Runtime `Nodejs16.13`, handler `index.main_handler` (or one of the others).

class UserNameAlreadyExistsException extends Error {}

// async style
exports.main_handler = async (event, context) => {
  console.log(event);
  return event.key;
};

// callback style
exports.callback_handler = (event, context, callback) => {
  console.log(event);
  callback(null, event.key);
};

exports.always_failed_handler = async (event, context) => {
  throw new Error('I failed!');
};

exports.register_handler = async (event, context) => {
  throw new UserNameAlreadyExistsException(`user name ${event.username} already exists`);
};
