<?php
// The seed's examples for the PHP runtime as a real function directory.
// Run with scf-process: Runtime `Php7.4` (or Php5.6, Php7.2, Php8.0), handler
// `index.main_handler` (or one of the others). SCF's PHP runtimes pass $event and
// $context as objects: `$event->key`.

class UserNameAlreadyExistsException extends Exception
{
}

function main_handler($event, $context)
{
    echo json_encode($event), "\n";
    return $event->key;
}

function always_failed_handler($event, $context)
{
    throw new Exception('I failed!');
}

function register_handler($event, $context)
{
    throw new UserNameAlreadyExistsException('user name ' . $event->username . ' already exists');
}

function try_catch_handler($event, $context)
{
    try {
        throw new Exception('I failed!');
    } catch (Exception $e) {
        echo 'caught: ', $e->getMessage(), "\n";
        return array('caught' => $e->getMessage());
    }
}
