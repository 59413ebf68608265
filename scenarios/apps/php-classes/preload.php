<?php
// opcache.preload: compiled once in the master before the children fork, shared by all of them.
require __DIR__ . '/classes.php';
