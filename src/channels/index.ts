// One import per built-in adapter: each registers itself with the channel registry.
import './web.js';
