// One import per harness: each registers itself.
import './command.js';
