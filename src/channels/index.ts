// One import per built-in adapter: each registers itself with the channel registry.
import './web.js';
import './discord/index.js';
import './slack/index.js';
import './telegram/index.js';
import './email/index.js';
import './whatsapp/index.js';
