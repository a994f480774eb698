// One import per harness: each registers itself.
import './claude.js';
import './command.js';
import './codex.js';
