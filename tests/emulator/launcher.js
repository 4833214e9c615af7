#!/usr/bin/env node
'use strict';
/*
 * Telegram Bot API emulator for end-to-end tests.
 *
 * Runs telegram-test-api (4.2.1) on an internal loopback port and serves a public
 * port in front of it that proxies requests and fixes what python-telegram-bot 22
 * cannot live with (see README.md next to this file):
 *   - /bot<token>/<method>        Bot API used by the bot under test
 *   - /file/bot<token>/<path>     file downloads (Bot.base_file_url)
 *   - /sendMessage, /sendCommand, /sendCallback, /getUpdates, /getUpdatesHistory
 *                                 telegram-test-api's "client" API (the human side)
 *   - /_test/...                  test-only endpoints (documents, admins, recorded state)
 *
 * Usage: node launcher.js --port 9000 [--verbose] [--exit-with-stdin]
 * Prints "READY http://127.0.0.1:<port>" on stdout once it accepts requests.
 * Only ever binds 127.0.0.1.
 */

const http = require('http');
const crypto = require('crypto');
const TelegramServer = require('telegram-test-api');

const HOST = '127.0.0.1';
const args = process.argv.slice(2);
const argValue = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const PUBLIC_PORT = Number(argValue('--port', process.env.PORT || 9000));
const VERBOSE = args.includes('--verbose');
const MAX_BODY = 60 * 1024 * 1024;

// ---------------------------------------------------------------------------
// State kept by the launcher (the emulator itself only keeps raw messages)
// ---------------------------------------------------------------------------
const chats = new Map(); // chat id -> Chat object, with the type the test used
const users = new Map(); // user id -> User
const members = new Map(); // chat id -> Set(user id) that wrote in the chat
const admins = new Map(); // chat id -> {ownerId, userIds}
const files = new Map(); // file_id -> {meta, data: Buffer, token}
const callbacks = new Map(); // callback query id -> {token, chatId, data, answered}
const messages = new Map(); // "token|chat|message_id" -> {message, fromBot}
const nonces = new Map(); // nonce of a client-side post -> delivered update
const tokens = new Map(); // token -> per-bot state, see botState()
const waiters = new Set(); // pending long polls: {key, wake}
let outboxSeq = 0;
let fileSeq = 0;

function botState(token) {
  if (!tokens.has(token)) {
    tokens.set(token, {
      queue: [], // updates delivered to getUpdates but not confirmed by an offset yet
      allowedUpdates: null,
      outbox: [], // what the bot did in chats, read by the client-side /getUpdates
      commands: new Map(), // scope key -> {scope, language_code, commands}
      chatActions: [],
      documents: [],
      callbackAnswers: [],
      settings: [],
      requests: {},
    });
  }
  return tokens.get(token);
}

class TgError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}
const bad = (what) => new TgError(400, `Bad Request: ${what}`);
const nowSec = () => Math.floor(Date.now() / 1000);
// telegram-test-api stamps bot messages in milliseconds; Telegram uses seconds.
const toSeconds = (d) => (typeof d === 'number' ? (d > 1e11 ? Math.floor(d / 1000) : d) : nowSec());
const msgKey = (token, chatId, messageId) => `${token}|${chatId}|${messageId}`;

// ---------------------------------------------------------------------------
// Long-poll helper: resolves when notify(key) is called, on timeout, or when the
// client hangs up (PTB cancels its pending getUpdates on shutdown).
// ---------------------------------------------------------------------------
function waitFor(key, ms, res) {
  return new Promise((resolve) => {
    const w = { key, wake: done };
    const timer = setTimeout(done, ms);
    res.on('close', done);
    waiters.add(w);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      waiters.delete(w);
      resolve();
    }
  });
}
function notify(key) {
  for (const w of [...waiters]) if (w.key === key) w.wake();
}

// ---------------------------------------------------------------------------
// Talking to the internal telegram-test-api instance
// ---------------------------------------------------------------------------
let INTERNAL_PORT = 0;
function callEmulator(path, payload) {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify(payload || {}));
    const req = http.request(
      { host: HOST, port: INTERNAL_PORT, path, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Move the emulator's unread user updates into our per-bot queue, fixing them.
// Serialised so that a caller can rely on "my update is in the queue afterwards".
let pullChain = Promise.resolve();
function pull(token) {
  const run = pullChain.then(async () => {
    const r = await callEmulator(`/bot${encodeURIComponent(token)}/getUpdates`, {});
    const st = botState(token);
    for (const u of (r && r.result) || []) st.queue.push(fixUserUpdate(token, u));
    st.queue.sort((a, b) => a.update_id - b.update_id);
  });
  pullChain = run.catch(() => {});
  return run;
}

// ---------------------------------------------------------------------------
// Shapes: chats, users, messages
// ---------------------------------------------------------------------------
const CHAT_FIELDS = {
  private: ['id', 'type', 'first_name', 'last_name', 'username'],
  group: ['id', 'type', 'title'],
  supergroup: ['id', 'type', 'title', 'username', 'is_forum'],
  channel: ['id', 'type', 'title', 'username'],
};
function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
function rememberChat(chat) {
  const type = CHAT_FIELDS[chat.type] ? chat.type : 'private';
  const clean = pick({ ...chat, type }, CHAT_FIELDS[type]);
  chats.set(String(chat.id), clean);
  return clean;
}
function chatFor(chatId) {
  const known = chats.get(String(chatId));
  if (known) return known;
  // Never seen: guess like Telegram ids do (negative ids are groups).
  return Number(chatId) < 0
    ? { id: Number(chatId), type: 'group', title: `Group ${chatId}` }
    : { id: Number(chatId), type: 'private', first_name: `User ${chatId}` };
}
function rememberUser(user, chatId) {
  const clean = pick({ is_bot: false, ...user }, ['id', 'is_bot', 'first_name', 'last_name', 'username', 'language_code']);
  users.set(String(user.id), clean);
  if (chatId !== undefined) {
    if (!members.has(String(chatId))) members.set(String(chatId), new Set());
    members.get(String(chatId)).add(String(user.id));
  }
  return clean;
}
// getMe of telegram-test-api lacks is_bot; the bot id is the token's numeric prefix.
const botUsers = new Map();
function botUser(token) {
  if (!botUsers.has(token)) {
    botUsers.set(token, { id: Number(token.split(':')[0]), is_bot: true, first_name: 'Test First name', username: 'TestNameBot' });
  }
  return botUsers.get(token);
}
function lookupMessage(token, chatId, messageId) {
  const entry = messages.get(msgKey(token, chatId, messageId));
  return entry && entry.message;
}
function chatInstance(chatId) {
  return crypto.createHash('sha1').update(`chat:${chatId}`).digest('hex').slice(0, 16);
}

// A user message as stored by the emulator -> a Telegram Message.
function fixUserMessage(token, raw) {
  const msg = { ...raw };
  delete msg.botToken;
  delete msg._nonce;
  msg.date = toSeconds(msg.date);
  msg.chat = rememberChat(msg.chat);
  if (msg.from) msg.from = rememberUser(msg.from, msg.chat.id);
  if (msg.reply_to_message && msg.reply_to_message.message_id !== undefined) {
    const orig = lookupMessage(token, msg.chat.id, msg.reply_to_message.message_id);
    msg.reply_to_message = { ...(orig || fixNested(msg.reply_to_message, msg.chat)) };
    delete msg.reply_to_message.reply_to_message; // Telegram nests only one level
  }
  return msg;
}
function fixNested(m, chat) {
  const out = { ...m, chat: m.chat ? rememberChat(m.chat) : chat, date: toSeconds(m.date) };
  delete out.botToken;
  delete out._event;
  delete out._request;
  return out;
}

function fixUserUpdate(token, u) {
  const update = { update_id: u.update_id };
  let nonce;
  if (u.message) {
    nonce = u.message._nonce;
    update.message = fixUserMessage(token, u.message);
    const m = update.message;
    messages.set(msgKey(token, m.chat.id, m.message_id), { message: m, fromBot: false });
  } else if (u.callback_query) {
    const cq = u.callback_query;
    nonce = cq.from && cq.from._nonce;
    const from = rememberUser(cq.from);
    const fixed = { id: cq.id, from, chat_instance: '', data: cq.data };
    if (cq.message && cq.message.chat) {
      const chat = rememberChat(cq.message.chat);
      // Telegram sends the message as it is now (after edits), not as the test saw it.
      fixed.message = lookupMessage(token, chat.id, cq.message.message_id) || fixNested(cq.message, chat);
      fixed.chat_instance = chatInstance(chat.id);
      callbacks.set(cq.id, { token, chatId: chat.id, data: cq.data, answered: false });
    } else {
      fixed.chat_instance = chatInstance(`user:${from.id}`);
      callbacks.set(cq.id, { token, chatId: null, data: cq.data, answered: false });
    }
    update.callback_query = fixed;
  }
  if (nonce) nonces.set(nonce, update);
  return update;
}

// ---------------------------------------------------------------------------
// Formatting: HTML parse mode -> plain text + entities (like Telegram does)
// ---------------------------------------------------------------------------
const HTML_TAGS = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', code: 'code', pre: 'pre',
  a: 'text_link', 'tg-spoiler': 'spoiler', span: 'spoiler', blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
};
const HTML_ESCAPES = { lt: '<', gt: '>', amp: '&', quot: '"' };
function parseHtml(src) {
  let text = '';
  const entities = [];
  const stack = [];
  const tagRe = /<(\/?)([a-zA-Z][\w-]*)((?:\s[^>]*)?)>/y;
  const entRe = /&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot);/y;
  const fail = (why) => bad(`can't parse entities: ${why}`);
  for (let i = 0; i < src.length;) {
    if (src[i] === '<') {
      tagRe.lastIndex = i;
      const m = tagRe.exec(src);
      if (!m) throw fail(`Unsupported start tag at offset ${i}`);
      const [all, closing, rawName, attrs] = m;
      const name = rawName.toLowerCase();
      if (!HTML_TAGS[name]) throw fail(`Unsupported start tag "${name}" at offset ${i}`);
      if (!closing) {
        stack.push({ name, attrs, offset: text.length });
      } else {
        const open = stack.pop();
        if (!open || open.name !== name) throw fail(`Unmatched end tag at offset ${i}, expected "</${open ? open.name : ''}>", found "</${name}>"`);
        const ent = { type: HTML_TAGS[name], offset: open.offset, length: text.length - open.offset };
        const attr = (n) => (new RegExp(`${n}\\s*=\\s*"([^"]*)"`, 'i').exec(open.attrs) || [])[1];
        const parent = stack[stack.length - 1];
        if (name === 'code' && parent && parent.name === 'pre') {
          const lang = /language-(\S+)/.exec(attr('class') || '');
          if (lang) parent.language = lang[1];
          ent.length = 0; // <pre><code> is a single pre entity
        }
        if (name === 'a') ent.url = attr('href');
        if (name === 'span' && attr('class') !== 'tg-spoiler') throw fail('Unsupported start tag "span"');
        if (name === 'pre' && open.language) ent.language = open.language;
        if (name === 'blockquote' && /\bexpandable\b/.test(open.attrs)) ent.type = 'expandable_blockquote';
        if (name === 'tg-emoji') ent.custom_emoji_id = attr('emoji-id');
        if (ent.length > 0 && !(name === 'a' && !ent.url)) entities.push(ent);
      }
      i += all.length;
    } else if (src[i] === '&') {
      entRe.lastIndex = i;
      const m = entRe.exec(src);
      const e = m && m[1];
      if (!e) text += src[i++];
      else {
        text += e[0] === '#' ? String.fromCodePoint(parseInt(e[1] === 'x' ? e.slice(2) : e.slice(1), e[1] === 'x' ? 16 : 10)) : HTML_ESCAPES[e];
        i += m[0].length;
      }
    } else text += src[i++];
  }
  if (stack.length) throw fail(`Can't find end tag corresponding to start tag "${stack[stack.length - 1].name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}
// Text (or caption) + entities as Telegram would store them. Markdown modes are kept raw.
function formatText(p, textKey, entitiesKey, maxLen) {
  let text = p[textKey];
  let entities = p[entitiesKey];
  if (text === undefined || text === null) return {};
  text = String(text);
  if (String(p.parse_mode || '').toLowerCase() === 'html') ({ text, entities } = parseHtml(text));
  if (text.length > maxLen) throw bad(textKey === 'text' ? 'message is too long' : 'message caption is too long');
  const out = { [textKey]: text };
  if (entities && entities.length) out[entitiesKey] = entities;
  return out;
}
function checkReplyMarkup(markup) {
  if (!markup || !markup.inline_keyboard) return;
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) throw bad("can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays");
  for (const b of rows.flat()) {
    if (!b || typeof b.text !== 'string') throw bad("can't parse inline keyboard button: Text must be a String");
    const kinds = ['callback_data', 'url', 'switch_inline_query', 'switch_inline_query_current_chat', 'web_app', 'login_url', 'pay', 'copy_text', 'callback_game', 'switch_inline_query_chosen_chat'];
    if (!kinds.some((k) => b[k] !== undefined)) throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    if (b.callback_data !== undefined) {
      const n = Buffer.byteLength(String(b.callback_data));
      if (n < 1 || n > 64) throw bad('BUTTON_DATA_INVALID');
    }
  }
}

// ---------------------------------------------------------------------------
// Bot side: what the bot sent, edited or deleted
// ---------------------------------------------------------------------------
function chatIdParam(p) {
  const id = Number(p.chat_id);
  if (p.chat_id === undefined || p.chat_id === '' || !Number.isInteger(id)) throw bad('chat not found');
  return id;
}
function recordOutbox(token, event, message, params) {
  const st = botState(token);
  // Keep the request for assertions, but describe uploaded files instead of copying their bytes.
  const request = {};
  for (const [k, v] of Object.entries(params)) {
    request[k] = v && Buffer.isBuffer(v.data) ? { filename: v.filename, contentType: v.contentType, size: v.data.length } : v;
  }
  st.outbox.push({ seq: ++outboxSeq, event, chatId: message.chat.id, time: Date.now(), read: false, message, request });
  notify(`outbox:${token}|${message.chat.id}`);
}
function replyTarget(token, chatId, p) {
  const id = (p.reply_parameters && p.reply_parameters.message_id) || p.reply_to_message_id;
  if (!id) return undefined;
  const orig = lookupMessage(token, chatId, id);
  if (!orig && !(p.reply_parameters && p.reply_parameters.allow_sending_without_reply)) throw bad('message to be replied not found');
  if (!orig) return undefined;
  const copy = { ...orig };
  delete copy.reply_to_message;
  return copy;
}
// Common part of every message the bot sends: ask the emulator for a message id
// (keeps ids unique with user messages), then build a proper Message.
async function sendBotMessage(token, p, fields, emulatorText) {
  const chatId = chatIdParam(p);
  checkReplyMarkup(p.reply_markup);
  const replyTo = replyTarget(token, chatId, p);
  const r = await callEmulator(`/bot${encodeURIComponent(token)}/sendMessage`, {
    chat_id: String(chatId), text: emulatorText, reply_markup: p.reply_markup,
  });
  const message = { message_id: r.result.message_id, from: botUser(token), chat: chatFor(chatId), date: toSeconds(r.result.date), ...fields };
  if (replyTo) message.reply_to_message = replyTo;
  if (p.reply_markup && p.reply_markup.inline_keyboard) message.reply_markup = p.reply_markup;
  messages.set(msgKey(token, chatId, message.message_id), { message, fromBot: true });
  recordOutbox(token, 'message', message, p);
  return message;
}
function editableMessage(token, p) {
  if (p.inline_message_id) throw bad('inline messages are not supported by the emulator');
  const chatId = chatIdParam(p);
  const entry = messages.get(msgKey(token, chatId, p.message_id));
  if (!entry) throw bad('message to edit not found');
  if (!entry.fromBot) throw bad("message can't be edited");
  return entry;
}
function applyEdit(token, entry, changes, p) {
  const old = entry.message;
  const next = { ...old, ...changes, edit_date: nowSec() };
  for (const k of Object.keys(changes)) if (changes[k] === undefined) delete next[k];
  const same = (k) => JSON.stringify(old[k]) === JSON.stringify(next[k]);
  if (['text', 'entities', 'caption', 'caption_entities', 'reply_markup'].every(same)) {
    throw bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
  }
  entry.message = next;
  recordOutbox(token, 'edit', next, p);
  return next;
}

// Files: uploads by the user (/_test/sendDocument) or by the bot (sendDocument).
function storeFile(token, data, fileName, mimeType) {
  fileSeq += 1;
  const uid = crypto.createHash('sha1').update(data).update(String(fileSeq)).digest('base64url').slice(0, 16);
  const ext = (/\.[A-Za-z0-9]{1,8}$/.exec(fileName || '') || [''])[0];
  const meta = {
    file_id: `BQACAgIAAx${uid}${fileSeq}`, file_unique_id: `AgAD${uid.slice(0, 8)}`,
    file_size: data.length, file_path: `documents/file_${fileSeq}${ext}`,
  };
  files.set(meta.file_id, { meta, data, token, fileName, mimeType });
  return { file_id: meta.file_id, file_unique_id: meta.file_unique_id, file_name: fileName, mime_type: mimeType, file_size: data.length };
}

// ---------------------------------------------------------------------------
// Bot API methods. Each returns the "result" or throws TgError.
// ---------------------------------------------------------------------------
const COMMAND_RE = /^[a-z0-9_]{1,32}$/;
const CHAT_ACTIONS = new Set(['typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note']);
const scopeKey = (p) => {
  const s = p.scope || { type: 'default' };
  return JSON.stringify([s.type, s.chat_id !== undefined ? String(s.chat_id) : null, s.user_id !== undefined ? String(s.user_id) : null, p.language_code || '']);
};
const ADMIN_RIGHTS = ['can_manage_chat', 'can_delete_messages', 'can_manage_video_chats', 'can_restrict_members',
  'can_promote_members', 'can_change_info', 'can_invite_users', 'can_post_stories', 'can_edit_stories',
  'can_delete_stories', 'can_pin_messages'];
function chatMember(token, chatId, userId) {
  const user = String(userId) === String(botUser(token).id) ? botUser(token)
    : users.get(String(userId)) || { id: Number(userId), is_bot: false, first_name: `User ${userId}` };
  const table = admins.get(String(chatId)) || { ownerId: null, userIds: [] };
  if (String(table.ownerId) === String(userId)) return { status: 'creator', user, is_anonymous: false };
  if (table.userIds.map(String).includes(String(userId))) {
    const m = { status: 'administrator', user, can_be_edited: false, is_anonymous: false };
    for (const r of ADMIN_RIGHTS) m[r] = true;
    return m;
  }
  const inChat = (members.get(String(chatId)) || new Set()).has(String(userId))
    || String(chatId) === String(userId) || user.is_bot;
  if (inChat) return { status: 'member', user };
  if (users.has(String(userId))) return { status: 'left', user };
  throw bad('user not found');
}

const methods = {
  async getMe(token) {
    const r = await callEmulator(`/bot${encodeURIComponent(token)}/getMe`, {});
    const me = botUser(token);
    Object.assign(me, { first_name: r.result.first_name, username: r.result.username });
    return { ...me, can_join_groups: true, can_read_all_group_messages: true, supports_inline_queries: false,
      can_connect_to_business: false, has_main_web_app: false };
  },

  // Long polling with offset, like the real server.
  async getUpdates(token, p, res) {
    const st = botState(token);
    const offset = Number(p.offset || 0);
    const limit = Math.min(Math.max(Number(p.limit || 100), 1), 100);
    const timeout = Math.min(Math.max(Number(p.timeout || 0), 0), 50);
    if (Array.isArray(p.allowed_updates)) st.allowedUpdates = p.allowed_updates.length ? p.allowed_updates : null;
    const take = () => {
      if (offset > 0) st.queue = st.queue.filter((u) => u.update_id >= offset); // confirmed
      else if (offset < 0) st.queue = st.queue.slice(offset);
      if (st.allowedUpdates) st.queue = st.queue.filter((u) => st.allowedUpdates.some((t) => t in u));
      return st.queue.slice(0, limit);
    };
    await pull(token);
    let batch = take();
    if (!batch.length && timeout > 0) {
      await waitFor(`updates:${token}`, timeout * 1000, res);
      batch = take();
    }
    return batch;
  },

  async sendMessage(token, p) {
    const fields = formatText(p, 'text', 'entities', 4096);
    if (!fields.text || !fields.text.trim()) throw bad('message text is empty');
    return sendBotMessage(token, p, fields, fields.text);
  },

  async sendDocument(token, p) {
    let document;
    if (p.document && p.document.data) {
      const f = p.document;
      document = storeFile(token, f.data, f.filename || 'document', f.contentType || 'application/octet-stream');
    } else if (typeof p.document === 'string' && files.has(p.document)) {
      const f = files.get(p.document);
      document = { ...f.meta, file_name: f.fileName, mime_type: f.mimeType };
      delete document.file_path;
    } else {
      throw bad('wrong file identifier/HTTP URL specified');
    }
    const fields = { document, ...formatText(p, 'caption', 'caption_entities', 1024) };
    const message = await sendBotMessage(token, p, fields, `[document] ${document.file_name}`);
    botState(token).documents.push({ chat_id: message.chat.id, message_id: message.message_id, caption: fields.caption,
      ...document, file_path: files.get(document.file_id).meta.file_path });
    return message;
  },

  async editMessageText(token, p) {
    const entry = editableMessage(token, p);
    if (entry.message.text === undefined) throw bad('there is no text in the message to edit');
    checkReplyMarkup(p.reply_markup);
    const fields = formatText(p, 'text', 'entities', 4096);
    if (!fields.text || !fields.text.trim()) throw bad('message text is empty');
    await callEmulator(`/bot${encodeURIComponent(token)}/editMessageText`, { chat_id: String(p.chat_id), message_id: String(p.message_id), text: fields.text });
    const markup = p.reply_markup && p.reply_markup.inline_keyboard ? p.reply_markup : undefined;
    return applyEdit(token, entry, { text: fields.text, entities: fields.entities, reply_markup: markup }, p);
  },

  async editMessageReplyMarkup(token, p) {
    const entry = editableMessage(token, p);
    checkReplyMarkup(p.reply_markup);
    const markup = p.reply_markup && p.reply_markup.inline_keyboard ? p.reply_markup : undefined;
    await callEmulator(`/bot${encodeURIComponent(token)}/editMessageReplyMarkup`, { chat_id: String(p.chat_id), message_id: String(p.message_id), reply_markup: markup });
    return applyEdit(token, entry, { reply_markup: markup }, p);
  },

  async deleteMessage(token, p) {
    const chatId = chatIdParam(p);
    const key = msgKey(token, chatId, p.message_id);
    if (!messages.has(key)) throw bad('message to delete not found');
    await callEmulator(`/bot${encodeURIComponent(token)}/deleteMessage`, { chat_id: chatId, message_id: Number(p.message_id) });
    const { message } = messages.get(key);
    messages.delete(key);
    recordOutbox(token, 'delete', { message_id: message.message_id, chat: message.chat, date: message.date }, p);
    return true;
  },

  async answerCallbackQuery(token, p) {
    const cb = callbacks.get(String(p.callback_query_id));
    if (!cb || cb.token !== token || cb.answered) throw bad('query is too old and response timeout expired or query ID is invalid');
    if (p.text && String(p.text).length > 200) throw bad('MESSAGE_TOO_LONG');
    cb.answered = true;
    botState(token).callbackAnswers.push({ callback_query_id: String(p.callback_query_id), chat_id: cb.chatId, data: cb.data,
      text: p.text, show_alert: p.show_alert === true || p.show_alert === 'true', url: p.url });
    return true;
  },

  async setMyCommands(token, p) {
    const cmds = p.commands;
    if (!Array.isArray(cmds) || cmds.length > 100) throw bad("can't parse commands JSON object");
    for (const c of cmds) {
      if (!c || !COMMAND_RE.test(String(c.command))) throw bad('BOT_COMMAND_INVALID');
      if (!c.description || String(c.description).length > 256) throw bad('command description is empty or too long');
    }
    const list = cmds.map((c) => ({ command: c.command, description: c.description }));
    botState(token).commands.set(scopeKey(p), { scope: p.scope || { type: 'default' }, language_code: p.language_code || '', commands: list });
    return true;
  },
  async deleteMyCommands(token, p) {
    botState(token).commands.delete(scopeKey(p));
    return true;
  },
  async getMyCommands(token, p) {
    const entry = botState(token).commands.get(scopeKey(p));
    return entry ? entry.commands : [];
  },

  async sendChatAction(token, p) {
    const chatId = chatIdParam(p);
    if (!CHAT_ACTIONS.has(p.action)) throw bad('wrong parameter action in request');
    botState(token).chatActions.push({ chat_id: chatId, action: p.action, time: Date.now() });
    return true;
  },

  async getFile(token, p) {
    const f = files.get(String(p.file_id));
    if (!f) throw bad('invalid file_id');
    if (f.meta.file_size > 20 * 1024 * 1024) throw bad('file is too big');
    return { ...f.meta };
  },

  async getChat(token, p) {
    const id = chatIdParam(p);
    if (!chats.has(String(id))) throw bad('chat not found');
    return { ...chats.get(String(id)), accent_color_id: 0, max_reaction_count: 11,
      accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false } };
  },
  async getChatMember(token, p) {
    return chatMember(token, chatIdParam(p), p.user_id);
  },
  async getChatAdministrators(token, p) {
    const id = chatIdParam(p);
    if (chatFor(id).type === 'private') throw bad('there are no administrators in the private chat');
    const table = admins.get(String(id)) || { ownerId: null, userIds: [] };
    const ids = [...(table.ownerId !== null && table.ownerId !== undefined ? [table.ownerId] : []), ...table.userIds];
    return ids.map((uid) => chatMember(token, id, uid));
  },

  async deleteWebhook(token, p) {
    await callEmulator(`/bot${encodeURIComponent(token)}/deleteWebhook`, {});
    if (p.drop_pending_updates === true || p.drop_pending_updates === 'true') {
      await pull(token);
      botState(token).queue = [];
    }
    return true;
  },
  async getWebhookInfo(token) {
    await pull(token);
    return { url: '', has_custom_certificate: false, pending_update_count: botState(token).queue.length };
  },
  async setWebhook() {
    throw bad('webhooks are not supported by the emulator, use getUpdates (run_polling)');
  },
};
// Setters that only need to be accepted and recorded.
for (const name of ['setMyDescription', 'setMyShortDescription', 'setMyName', 'setChatMenuButton',
  'setMyDefaultAdministratorRights', 'logOut', 'close']) {
  methods[name] = async (token, p) => {
    botState(token).settings.push({ method: name, params: p });
    return true;
  };
}
const methodsByLowerName = new Map(Object.keys(methods).map((m) => [m.toLowerCase(), m]));

// ---------------------------------------------------------------------------
// Client side (the humans): validate, forward to the emulator, return ids
// ---------------------------------------------------------------------------
function requireUser(u, what) {
  if (!u || typeof u !== 'object' || !Number.isInteger(Number(u.id)) || !u.first_name) throw bad(`${what} must be a User object with id and first_name`);
}
async function submitUserUpdate(route, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('JSON object expected');
  const token = body.botToken;
  if (typeof token !== 'string' || !token) throw bad('botToken is required');
  const forward = { ...body, _nonce: crypto.randomBytes(8).toString('hex') };
  if (route === '/sendCallback') {
    requireUser(body.from, 'from');
    if (typeof body.data !== 'string' || Buffer.byteLength(body.data) > 64) throw bad('data must be a string of at most 64 bytes');
    if (body.message && !(body.message.chat && body.message.message_id !== undefined)) throw bad('message must be a Message with chat and message_id');
    forward.from = { ...body.from, _nonce: forward._nonce }; // the emulator keeps only from/message/data
  } else {
    requireUser(body.from, 'from');
    if (!body.chat || !Number.isInteger(Number(body.chat.id))) throw bad('chat must be a Chat object with an integer id');
    if (route === '/sendCommand' && !(Array.isArray(body.entities) && body.entities.length)) throw bad('a command needs entities');
    if (typeof body.text !== 'string' && !body.document) throw bad('text or document is required');
    forward.date = toSeconds(body.date);
    rememberChat(body.chat);
  }
  const r = await callEmulator(route, forward);
  if (!r || r.ok !== true) throw new TgError(500, `emulator refused ${route}`);
  await pull(token);
  const update = nonces.get(forward._nonce);
  nonces.delete(forward._nonce);
  notify(`updates:${token}`);
  if (!update) return null; // e.g. not stored (should not happen without webhooks)
  if (update.callback_query) return { update_id: update.update_id, callback_query_id: update.callback_query.id };
  return { update_id: update.update_id, message_id: update.message.message_id, message: update.message };
}

// The bot's outbox for one chat: everything sent/edited/deleted, in order.
async function clientGetUpdates(body, res) {
  if (!body || typeof body.token !== 'string') throw bad('token is required');
  const st = botState(body.token);
  const chatId = String(body.chatId);
  const after = body.after === undefined || body.after === null ? null : Number(body.after);
  const select = () => st.outbox.filter((e) => String(e.chatId) === chatId && (after === null ? !e.read : e.seq > after));
  let found = select();
  const timeout = Math.min(Math.max(Number(body.timeout || 0), 0), 60);
  if (!found.length && timeout > 0) {
    await waitFor(`outbox:${body.token}|${chatId}`, timeout * 1000, res);
    found = select();
  }
  if (after === null) found.forEach((e) => { e.read = true; });
  return found.map(({ read, ...e }) => e);
}

// ---------------------------------------------------------------------------
// Test-only endpoints
// ---------------------------------------------------------------------------
const testEndpoints = {
  async '/_test/health'() {
    return { internal_port: INTERNAL_PORT };
  },
  // The user sends a document to the bot.
  async '/_test/sendDocument'(b) {
    if (!b || typeof b.token !== 'string') throw bad('token is required');
    if (typeof b.contentBase64 !== 'string') throw bad('contentBase64 is required');
    const chat = b.chat || chatFor(b.chatId);
    const data = Buffer.from(b.contentBase64, 'base64');
    const document = storeFile(b.token, data, b.fileName || 'document', b.mimeType || 'application/octet-stream');
    const msg = { botToken: b.token, from: b.user, chat, date: nowSec(), document };
    if (b.caption) msg.caption = b.caption;
    if (b.reply_to_message) msg.reply_to_message = b.reply_to_message;
    return submitUserUpdate('/sendMessage', msg);
  },
  // Set who administers a chat: {chatId, userIds, ownerId?}
  async '/_test/chatAdmins'(b) {
    if (!b || b.chatId === undefined || !Array.isArray(b.userIds)) throw bad('chatId and userIds are required');
    admins.set(String(b.chatId), { ownerId: b.ownerId === undefined ? null : b.ownerId, userIds: b.userIds });
    return true;
  },
  // What the bot did, for assertions: {token}
  async '/_test/state'(b) {
    if (!b || typeof b.token !== 'string') throw bad('token is required');
    const st = botState(b.token);
    return {
      bot: botUser(b.token),
      commands: [...st.commands.values()],
      chat_actions: st.chatActions,
      documents: st.documents,
      callback_answers: st.callbackAnswers,
      settings: st.settings,
      pending_updates: st.queue.length,
      requests: st.requests,
    };
  },
};

// ---------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) reject(new TgError(413, 'Request Entity Too Large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
// Minimal multipart/form-data parser (PTB uploads files this way).
function parseMultipart(buf, boundary) {
  const out = {};
  const delim = Buffer.from(`--${boundary}`);
  let pos = buf.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (buf.slice(start, start + 2).toString() === '--') break;
    const next = buf.indexOf(delim, start);
    if (next === -1) break;
    const part = buf.slice(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd !== -1) {
      const head = part.slice(0, headEnd).toString('utf8');
      const data = part.slice(headEnd + 4);
      const name = (/name="([^"]*)"/i.exec(head) || [])[1];
      const filename = (/filename="([^"]*)"/i.exec(head) || [])[1];
      const contentType = (/content-type:\s*([^\r\n;]+)/i.exec(head) || [])[1];
      if (name !== undefined) out[name] = filename !== undefined ? { filename, contentType, data } : data.toString('utf8');
    }
    pos = next;
  }
  // "attach://name" references (used by PTB for some uploads)
  for (const [k, v] of Object.entries(out)) if (typeof v === 'string' && v.startsWith('attach://')) out[k] = out[v.slice(9)];
  return out;
}
const JSON_PARAMS = ['reply_markup', 'entities', 'caption_entities', 'commands', 'scope', 'allowed_updates',
  'reply_parameters', 'link_preview_options', 'offset', 'limit', 'timeout', 'message_id', 'user_id', 'show_alert',
  'drop_pending_updates', 'disable_notification', 'protect_content'];
// Bot API parameters arrive as JSON, urlencoded or multipart; JSON-typed fields come as strings.
function parseParams(req, buf, url) {
  const type = String(req.headers['content-type'] || '').toLowerCase();
  let p = {};
  if (type.includes('application/json')) {
    try {
      p = buf.length ? JSON.parse(buf.toString('utf8')) : {};
    } catch (e) {
      throw bad(`can't parse JSON: ${e.message}`);
    }
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw bad('JSON object expected');
  } else if (type.includes('multipart/form-data')) {
    const boundary = (/boundary="?([^";]+)"?/i.exec(req.headers['content-type']) || [])[1];
    if (!boundary) throw bad('multipart boundary missing');
    p = parseMultipart(buf, boundary);
  } else if (buf.length) {
    p = Object.fromEntries(new URLSearchParams(buf.toString('utf8')));
  }
  for (const [k, v] of url.searchParams) if (p[k] === undefined) p[k] = v;
  for (const k of JSON_PARAMS) {
    if (typeof p[k] === 'string' && p[k] !== '') {
      try {
        p[k] = JSON.parse(p[k]);
      } catch (e) {
        if (['reply_markup', 'entities', 'caption_entities', 'commands', 'scope', 'allowed_updates', 'reply_parameters'].includes(k)) {
          throw bad(`can't parse ${k} JSON object`);
        }
      }
    }
  }
  return p;
}
function sendJson(res, status, obj) {
  if (res.writableEnded || res.destroyed) return;
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}
function sendError(res, err) {
  const code = err instanceof TgError ? err.code : 500;
  if (!(err instanceof TgError)) console.error('[emulator] internal error:', err && err.stack ? err.stack : err);
  const description = err instanceof TgError ? err.message : `Internal Server Error: ${err && err.message}`;
  sendJson(res, code, { ok: false, error_code: code, description });
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${HOST}`);
  const path = url.pathname;
  if (VERBOSE) console.log(`[emulator] ${req.method} ${path}`);

  // File downloads: /file/bot<token>/<file_path>
  const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(path);
  if (fileMatch) {
    const token = decodeURIComponent(fileMatch[1]);
    const f = [...files.values()].find((x) => x.meta.file_path === decodeURIComponent(fileMatch[2]) && x.token === token);
    if (!f) return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    res.writeHead(200, { 'content-type': f.mimeType || 'application/octet-stream', 'content-length': f.data.length });
    return res.end(f.data);
  }

  const buf = await readBody(req);

  // Bot API: /bot<token>/<method>
  const botMatch = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
  if (botMatch) {
    const token = decodeURIComponent(botMatch[1]);
    if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) return sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const name = methodsByLowerName.get(botMatch[2].toLowerCase());
    const st = botState(token);
    st.requests[name || botMatch[2]] = (st.requests[name || botMatch[2]] || 0) + 1;
    if (!name) throw bad('method not found');
    const result = await methods[name](token, parseParams(req, buf, url), res);
    return sendJson(res, 200, { ok: true, result });
  }

  // Client endpoints and test endpoints take JSON bodies.
  let body = {};
  if (buf.length) {
    try {
      body = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw bad(`can't parse JSON: ${e.message}`);
    }
  }
  if (['/sendMessage', '/sendCommand', '/sendCallback'].includes(path)) {
    return sendJson(res, 200, { ok: true, result: await submitUserUpdate(path, body) });
  }
  if (path === '/getUpdates') return sendJson(res, 200, { ok: true, result: await clientGetUpdates(body, res) });
  if (path === '/getUpdatesHistory') return sendJson(res, 200, await callEmulator(path, body));
  if (testEndpoints[path]) return sendJson(res, 200, { ok: true, result: await testEndpoints[path](body) });
  throw new TgError(404, 'Not Found');
}

async function main() {
  const emulator = new TelegramServer({ host: HOST, port: 1, storeTimeout: 24 * 3600 });
  // Serve the emulator's own express app on an ephemeral loopback port (no port race).
  const internal = http.createServer(emulator.webServer);
  await new Promise((resolve, reject) => internal.listen(0, HOST).once('listening', resolve).once('error', reject));
  INTERNAL_PORT = internal.address().port;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => sendError(res, err));
  });
  // PTB keeps connections alive; avoid closing them under its feet between polls.
  server.keepAliveTimeout = 120 * 1000;
  server.headersTimeout = 125 * 1000;
  server.requestTimeout = 0;
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise((resolve, reject) => server.listen(PUBLIC_PORT, HOST).once('listening', resolve).once('error', reject));
  console.log(`READY http://${HOST}:${server.address().port}`);

  const stop = () => {
    for (const w of [...waiters]) w.wake();
    server.close();
    internal.close();
    if (server.closeAllConnections) server.closeAllConnections();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // --exit-with-stdin: the parent (the test harness) holds our stdin; if it dies, we stop too.
  if (args.includes('--exit-with-stdin')) {
    process.stdin.on('end', stop).on('close', stop).on('error', stop).resume();
  }
}

// A bug in one request must never take the emulator down.
process.on('unhandledRejection', (err) => console.error('[emulator] unhandled rejection:', err));
process.on('uncaughtException', (err) => console.error('[emulator] uncaught exception:', err));

main().catch((err) => {
  console.error(`[emulator] failed to start: ${err && err.message}`);
  process.exit(1);
});
