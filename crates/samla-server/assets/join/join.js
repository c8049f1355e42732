// Samla browser join page: signalling over /ws (see samla-protocol's messages.rs), and one
// RTCPeerConnection to the SFU that sends our microphone and camera and receives everyone
// else's tracks. The browser is the polite peer: a server offer wins over our own.

const PROTOCOL_VERSION = 1;
const CLIENT = "samla-web/0.1";

// ---- texts -------------------------------------------------------------------------------

const TEXTS = {
  nb: {
    meeting: "Møte",
    yourName: "Navnet ditt",
    passcode: "Passord",
    join: "Bli med",
    cliHint: "Bli med fra en terminal",
    waiting: "Venter på at verten slipper deg inn",
    leave: "Forlat",
    muteMic: "Slå av mikrofon",
    unmuteMic: "Slå på mikrofon",
    stopCam: "Slå av kamera",
    startCam: "Slå på kamera",
    waitingRoom: "Venterom",
    participants: "Deltakere",
    chat: "Chat",
    chatPlaceholder: "Skriv en melding",
    send: "Send",
    rejoin: "Bli med igjen",
    admit: "Slipp inn",
    you: "deg",
    host: "vert",
    co_host: "medvert",
    screen: "skjerm",
    micOff: "mik av",
    camOff: "kamera av",
    handRaised: "hånd oppe",
    connecting: "Kobler til …",
    nameNeeded: "Skriv navnet ditt.",
    passcode_required: "Møtet har passord.",
    wrong_passcode: "Feil passord.",
    connectionLost: "Forbindelsen til serveren ble brutt.",
    noServer: "Fikk ikke kontakt med serveren.",
    mediaDenied: "Fikk ikke tilgang til kamera eller mikrofon; du er med uten.",
    mediaConnecting: "Kobler til lyd og bilde …",
    mediaConnected: "",
    mediaFailed: "Lyd og bilde fikk ikke forbindelse.",
    closed_left: "Du har forlatt møtet.",
    closed_denied: "Verten slapp deg ikke inn.",
    closed_removed: "Du ble fjernet fra møtet.",
    closed_meeting_ended: "Møtet er avsluttet.",
    closed_replaced: "Du ble med fra et annet vindu.",
    muted_by: "En vert slo av mikrofonen din.",
    unmute_requested: "En vert ber deg slå på mikrofonen.",
  },
  en: {
    meeting: "Meeting",
    yourName: "Your name",
    passcode: "Passcode",
    join: "Join",
    cliHint: "Join from a terminal",
    waiting: "Waiting for the host to let you in",
    leave: "Leave",
    muteMic: "Mute",
    unmuteMic: "Unmute",
    stopCam: "Stop video",
    startCam: "Start video",
    waitingRoom: "Waiting room",
    participants: "Participants",
    chat: "Chat",
    chatPlaceholder: "Write a message",
    send: "Send",
    rejoin: "Join again",
    admit: "Admit",
    you: "you",
    host: "host",
    co_host: "co-host",
    screen: "screen",
    micOff: "muted",
    camOff: "no video",
    handRaised: "hand raised",
    connecting: "Connecting…",
    nameNeeded: "Type your name.",
    passcode_required: "This meeting has a passcode.",
    wrong_passcode: "Wrong passcode.",
    connectionLost: "The connection to the server was lost.",
    noServer: "Could not reach the server.",
    mediaDenied: "No access to camera or microphone; you are in without them.",
    mediaConnecting: "Connecting audio and video…",
    mediaConnected: "",
    mediaFailed: "Audio and video could not connect.",
    closed_left: "You left the meeting.",
    closed_denied: "The host did not let you in.",
    closed_removed: "You were removed from the meeting.",
    closed_meeting_ended: "The meeting has ended.",
    closed_replaced: "You joined from another window.",
    muted_by: "A host muted your microphone.",
    unmute_requested: "A host asks you to unmute.",
  },
};

/** Norwegian (bokmål) unless the browser prefers English first; `?lang=` overrides. */
function pickLanguage(query, languages) {
  const forced = query.get("lang");
  if (forced && TEXTS[forced]) return forced;
  for (const l of languages || []) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "nb" || base === "nn" || base === "no") return "nb";
    if (base === "en") return "en";
  }
  return "nb";
}

const params = new URLSearchParams(location.search);
const lang = pickLanguage(params, navigator.languages);
const t = (key) => TEXTS[lang][key] ?? TEXTS.en[key] ?? key;

// ---- page state ----------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const meetingId = document.querySelector('meta[name="samla-meeting"]').content;

const state = {
  phase: "lobby", // lobby | connecting | waiting | joined | ended
  you: null,
  role: null,
  meeting: null,
  participants: new Map(), // id -> ParticipantInfo
  waiting: [], // WaitingInfo (moderators only)
  chat: [], // ChatMessage
  remoteTracks: [], // RemoteTrack {mid, participant, kind}
  activeSpeaker: null,
  mediaError: null,
};

let ws = null;
let welcomed = false;
let pendingJoin = null; // join frame to send once welcomed
let media = null; // the Media session while joined

// ---- signalling ------------------------------------------------------------------------------

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function clientId() {
  try {
    let id = localStorage.getItem("samla.client_id");
    if (!id) {
      id = crypto.randomUUID();
      localStorage.setItem("samla.client_id", id);
    }
    return id;
  } catch {
    return undefined;
  }
}

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  ws = new WebSocket(url);
  welcomed = false;
  ws.addEventListener("open", () => send({ type: "hello", version: PROTOCOL_VERSION, client: CLIENT }));
  ws.addEventListener("message", (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(msg).catch((e) => console.error("samla: handling", msg.type, e));
  });
  ws.addEventListener("close", () => {
    const was = state.phase;
    ws = null;
    welcomed = false;
    stopMedia();
    if (was === "connecting") showLobby(t("noServer"));
    else if (was === "waiting" || was === "joined") showEnded(t("connectionLost"));
  });
}

function join() {
  const name = $("name").value.trim();
  if (!name) {
    showLobby(t("nameNeeded"));
    return;
  }
  const frame = { type: "join", meeting_id: meetingId, display_name: name };
  const passcode = $("passcode").value;
  if (!$("passcode-row").hidden && passcode) frame.passcode = passcode;
  const cid = clientId();
  if (cid) frame.client_id = cid;
  setPhase("connecting");
  $("join").disabled = true;
  $("lobby-status").textContent = t("connecting");
  if (ws && welcomed) send(frame);
  else {
    pendingJoin = frame;
    if (!ws) connect();
  }
}

async function onMessage(msg) {
  switch (msg.type) {
    case "welcome":
      welcomed = true;
      if (pendingJoin) send(pendingJoin);
      pendingJoin = null;
      break;
    case "error":
      onError(msg);
      break;
    case "waiting":
      state.you = msg.you;
      state.meeting = msg.meeting;
      stopMedia();
      setPhase("waiting");
      break;
    case "moved_to_waiting_room":
      stopMedia();
      state.participants.clear();
      state.remoteTracks = [];
      setPhase("waiting");
      break;
    case "joined":
      state.you = msg.you;
      state.role = msg.role;
      state.meeting = msg.meeting;
      state.participants = new Map(msg.participants.map((p) => [p.id, p]));
      state.waiting = msg.waiting || [];
      state.chat = msg.chat || [];
      state.remoteTracks = [];
      setPhase("joined");
      renderAll();
      startLocalMedia();
      break;
    case "participant_joined":
    case "participant_updated":
      state.participants.set(msg.participant.id, msg.participant);
      if (msg.participant.id === state.you) state.role = msg.participant.role;
      renderRoster();
      renderTiles();
      break;
    case "participant_left":
      state.participants.delete(msg.participant);
      renderRoster();
      renderTiles();
      break;
    case "waiting_room":
      state.waiting = msg.waiting;
      renderRoster();
      break;
    case "meeting_updated":
      state.meeting = msg.meeting;
      renderHeader();
      break;
    case "chat":
      state.chat.push(msg.message);
      renderChat();
      break;
    case "muted_by":
      if (media) media.setMicMuted(true);
      flash(t("muted_by"));
      break;
    case "unmute_requested":
      flash(t("unmute_requested"));
      break;
    case "reaction":
      break;
    case "active_speaker":
      state.activeSpeaker = msg.participant;
      renderTiles();
      break;
    case "closed":
      stopMedia();
      showEnded(t(`closed_${msg.reason}`));
      break;
    case "media_config":
      startPeer(msg.ice_servers);
      break;
    case "media_answer":
      if (media) await media.onAnswer(msg.sdp);
      break;
    case "media_offer":
      if (media) await media.onOffer(msg.sdp);
      break;
    case "media_tracks":
      state.remoteTracks = msg.tracks;
      renderTiles();
      break;
    case "media_layers":
      if (media) await media.setLayers(msg.kind, msg.active_rids);
      break;
    default:
      break;
  }
}

function onError(msg) {
  if (media && media.offerPending()) {
    // Most likely the SFU refused our offer; Media decides whether to retry simpler.
    media.onOfferError(msg);
  }
  if (state.phase === "connecting") {
    if (msg.code === "passcode_required" || msg.code === "wrong_passcode") {
      $("passcode-row").hidden = false;
      showLobby(t(msg.code));
      $("passcode").focus();
    } else {
      showLobby(msg.message || msg.code);
    }
  } else {
    console.warn("samla: server error", msg.code, msg.message);
  }
}

// ---- media -----------------------------------------------------------------------------------

let localStream = null;
let localStreamPromise = null;

function startLocalMedia() {
  if (localStreamPromise) return localStreamPromise;
  localStreamPromise = navigator.mediaDevices
    .getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
    })
    .then((s) => {
      localStream = s;
      if (state.phase === "joined") sendMediaState();
      renderTiles();
      return s;
    })
    .catch((e) => {
      console.warn("samla: getUserMedia", e);
      state.mediaError = String(e);
      setMediaStatus(t("mediaDenied"));
      return null;
    });
  return localStreamPromise;
}

function stopMedia() {
  if (media) media.close();
  media = null;
  if (localStream) for (const tr of localStream.getTracks()) tr.stop();
  localStream = null;
  localStreamPromise = null;
  renderTiles();
}

/** Synchronous on purpose: offers and answers that arrive while the camera is still opening
 * queue up behind it inside `Media`. */
function startPeer(iceServers) {
  if (state.phase !== "joined") return;
  if (media) media.close();
  media = new Media(iceServers, startLocalMedia(), { simulcast: true });
}

/** Only H.264 (and its retransmissions) for video when the browser has it: the SFU speaks
 * H.264 and Opus, and Chromium would otherwise pick VP8. */
function videoCodecs() {
  const caps = RTCRtpReceiver.getCapabilities?.("video");
  if (!caps) return null;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  if (h264.length === 0) return null;
  // Constrained baseline, packetization-mode=1 first: what every decoder handles.
  const score = (c) => {
    const f = c.sdpFmtpLine || "";
    return (f.includes("packetization-mode=1") ? 0 : 2) + (f.includes("profile-level-id=42e0") ? 0 : 1);
  };
  h264.sort((a, b) => score(a) - score(b));
  const rest = caps.codecs.filter((c) => ["video/rtx"].includes(c.mimeType.toLowerCase()));
  return [...h264, ...rest];
}

function audioCodecs() {
  const caps = RTCRtpReceiver.getCapabilities?.("audio");
  if (!caps) return null;
  const opus = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "audio/opus");
  return opus.length ? opus : null;
}

const SIMULCAST = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

class Media {
  constructor(iceServers, streamPromise, { simulcast }) {
    this.iceServers = iceServers;
    this.streamPromise = streamPromise;
    this.stream = null;
    this.simulcast = simulcast;
    this.closed = false;
    this.makingOffer = false;
    this.awaitingAnswer = false;
    this.queue = Promise.resolve();
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.pc.addEventListener("negotiationneeded", () => this.enqueue(() => this.offer()));
    this.pc.addEventListener("track", () => renderTiles());
    this.pc.addEventListener("connectionstatechange", () => this.onConnectionState());
    this.audio = null;
    this.video = null;
    this.enqueue(async () => {
      this.stream = await streamPromise;
      if (!this.closed) this.publish();
    });
    setMediaStatus(t("mediaConnecting"));
  }

  /** Runs signalling steps one at a time, in arrival order. */
  enqueue(step) {
    this.queue = this.queue.then(step).catch((e) => console.error("samla: media", e));
    return this.queue;
  }

  publish() {
    const audioTrack = this.stream?.getAudioTracks()[0];
    const videoTrack = this.stream?.getVideoTracks()[0];
    if (audioTrack) {
      this.audio = this.pc.addTransceiver(audioTrack, { direction: "sendonly", streams: [this.stream] });
      const codecs = audioCodecs();
      if (codecs && this.audio.setCodecPreferences) this.audio.setCodecPreferences(codecs);
    }
    if (videoTrack) {
      const init = { direction: "sendonly", streams: [this.stream] };
      if (this.simulcast) init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
      else init.sendEncodings = [{ maxBitrate: 1_500_000 }];
      this.video = this.pc.addTransceiver(videoTrack, init);
      const codecs = videoCodecs();
      if (codecs && this.video.setCodecPreferences) this.video.setCodecPreferences(codecs);
    }
  }

  publishedTracks() {
    const tracks = [];
    if (this.audio?.mid) tracks.push({ mid: this.audio.mid, kind: "audio" });
    if (this.video?.mid) tracks.push({ mid: this.video.mid, kind: "camera" });
    return tracks;
  }

  /** The protocol has no trickle ICE: wait briefly for our candidates to be in the SDP. An
   * ICE-lite SFU does not need them (it learns our address from our checks), so do not wait
   * long for slow STUN or TURN servers. */
  gathered(maxMs = 700) {
    if (this.pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      const check = () => this.pc.iceGatheringState === "complete" && done();
      const timer = setTimeout(done, maxMs);
      this.pc.addEventListener("icegatheringstatechange", check);
    });
  }

  offerPending() {
    return this.awaitingAnswer;
  }

  async offer() {
    if (this.closed || this.pc.signalingState !== "stable") return; // fires again when stable
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      await this.gathered();
      if (this.closed || this.pc.signalingState !== "have-local-offer") return;
      this.awaitingAnswer = true;
      send({ type: "media_offer", sdp: this.pc.localDescription.sdp, tracks: this.publishedTracks() });
    } finally {
      this.makingOffer = false;
    }
  }

  onAnswer(sdp) {
    return this.enqueue(async () => {
      if (this.closed) return;
      if (this.pc.signalingState !== "have-local-offer") return; // answer to a rolled-back offer
      this.awaitingAnswer = false;
      await this.pc.setRemoteDescription({ type: "answer", sdp });
      await this.checkSimulcast();
      renderTiles();
    });
  }

  onOffer(sdp) {
    return this.enqueue(async () => {
      if (this.closed) return;
      if (this.pc.signalingState === "have-local-offer") {
        // Polite peer: drop our offer, answer theirs; negotiationneeded re-offers after.
        await this.pc.setLocalDescription({ type: "rollback" });
        this.awaitingAnswer = false;
      }
      await this.pc.setRemoteDescription({ type: "offer", sdp });
      await this.pc.setLocalDescription();
      await this.gathered();
      send({ type: "media_answer", sdp: this.pc.localDescription.sdp });
      renderTiles();
    });
  }

  /** The server refused our offer: once, try again without simulcast. */
  onOfferError(msg) {
    this.awaitingAnswer = false;
    if (!this.simulcast || this.closed) return;
    console.warn("samla: offer refused, retrying without simulcast:", msg.code, msg.message);
    this.close();
    media = new Media(this.iceServers, this.streamPromise, { simulcast: false });
  }

  /** If the answer did not take simulcast, the browser keeps only the first layer, which is
   * the quarter-size one: make it full size. */
  async checkSimulcast() {
    if (!this.video || !this.simulcast) return;
    const params = this.video.sender.getParameters();
    if ((params.encodings?.length ?? 0) >= 2) return;
    this.simulcast = false;
    if (params.encodings?.length === 1) {
      params.encodings[0].scaleResolutionDownBy = 1;
      params.encodings[0].maxBitrate = 1_500_000;
      params.encodings[0].active = true;
      await this.video.sender.setParameters(params);
    }
  }

  async setLayers(kind, activeRids) {
    if (kind !== "camera" || !this.video || !this.simulcast) return;
    const params = this.video.sender.getParameters();
    if (!params.encodings?.every((e) => e.rid)) return;
    let changed = false;
    for (const e of params.encodings) {
      const active = activeRids.includes(e.rid);
      if (e.active !== active) {
        e.active = active;
        changed = true;
      }
    }
    if (changed) await this.video.sender.setParameters(params);
  }

  setMicMuted(muted) {
    const tr = this.stream?.getAudioTracks()[0];
    if (tr) tr.enabled = !muted;
    renderControls();
  }

  onConnectionState() {
    const s = this.pc.connectionState;
    if (s === "connected") setMediaStatus(t("mediaConnected"));
    else if (s === "failed") setMediaStatus(t("mediaFailed"));
  }

  /** The receiving transceiver for a mid, if negotiated. */
  receiverTrack(mid) {
    const tr = this.pc.getTransceivers().find((x) => x.mid === mid);
    return tr ? tr.receiver.track : null;
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}

// ---- rendering -------------------------------------------------------------------------------

function setPhase(phase) {
  state.phase = phase;
  $("lobby").hidden = !(phase === "lobby" || phase === "connecting");
  $("waiting").hidden = phase !== "waiting";
  $("meeting").hidden = phase !== "joined";
  $("ended").hidden = phase !== "ended";
  if (phase !== "connecting") $("join").disabled = false;
}

function showLobby(message) {
  setPhase("lobby");
  $("lobby-status").textContent = message || "";
}

function showEnded(message) {
  setPhase("ended");
  $("ended-text").textContent = message;
  if (ws) ws.close();
}

function setMediaStatus(text) {
  $("media-status").textContent = text || "";
}

let flashTimer = null;
function flash(text) {
  setMediaStatus(text);
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => setMediaStatus(""), 6000);
}

function nameOf(id) {
  return state.participants.get(id)?.name ?? "…";
}

function renderAll() {
  renderHeader();
  renderRoster();
  renderChat();
  renderTiles();
  renderControls();
}

function renderHeader() {
  const topic = state.meeting?.topic || "Samla";
  $("topic").textContent = topic;
  document.title = `${topic} – Samla`;
}

function renderRoster() {
  const roster = $("roster");
  roster.replaceChildren(
    ...[...state.participants.values()].map((p) => {
      const li = document.createElement("li");
      li.dataset.participant = p.id;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = p.name;
      li.append(name);
      const extra = [];
      if (p.id === state.you) extra.push(t("you"));
      if (p.role === "host" || p.role === "co_host") extra.push(t(p.role));
      if (extra.length) {
        const role = document.createElement("span");
        role.className = "role";
        role.textContent = `(${extra.join(", ")})`;
        li.append(role);
      }
      for (const [on, key] of [[p.audio_muted, "micOff"], [!p.video_on, "camOff"], [p.hand_raised, "handRaised"]]) {
        if (!on) continue;
        const badge = document.createElement("span");
        badge.className = `badge ${key}`;
        badge.textContent = t(key);
        li.append(badge);
      }
      return li;
    }),
  );
  const moderator = state.role === "host" || state.role === "co_host";
  $("waiting-room-panel").hidden = !moderator || state.waiting.length === 0;
  $("waiting-list").replaceChildren(
    ...state.waiting.map((w) => {
      const li = document.createElement("li");
      li.textContent = w.name;
      const admit = document.createElement("button");
      admit.type = "button";
      admit.textContent = t("admit");
      admit.addEventListener("click", () => send({ type: "admit", participant: w.id }));
      li.append(admit);
      return li;
    }),
  );
}

function renderChat() {
  const log = $("chat-log");
  log.replaceChildren(
    ...state.chat.map((m) => {
      const li = document.createElement("li");
      const from = document.createElement("span");
      from.className = "from";
      from.textContent = m.from_name;
      const time = document.createElement("time");
      const at = new Date(m.sent_at_ms);
      time.dateTime = at.toISOString();
      time.textContent = at.toLocaleTimeString(lang === "nb" ? "nb-NO" : "en-GB", { hour: "2-digit", minute: "2-digit" });
      li.append(from, document.createTextNode(m.text), time);
      return li;
    }),
  );
  log.scrollTop = log.scrollHeight;
}

function renderControls() {
  const mic = localStream?.getAudioTracks()[0];
  const cam = localStream?.getVideoTracks()[0];
  const micOff = mic ? !mic.enabled : true;
  const camOff = cam ? !cam.enabled : true;
  $("toggle-mic").textContent = micOff ? t("unmuteMic") : t("muteMic");
  $("toggle-mic").setAttribute("aria-pressed", String(micOff));
  $("toggle-mic").disabled = !mic;
  $("toggle-cam").textContent = camOff ? t("startCam") : t("stopCam");
  $("toggle-cam").setAttribute("aria-pressed", String(camOff));
  $("toggle-cam").disabled = !cam;
}

const tiles = new Map(); // key -> {el, video, caption}
const sinks = new Map(); // mid -> <audio>

function tileFor(key, cls) {
  let tile = tiles.get(key);
  if (!tile) {
    const el = document.createElement("figure");
    el.className = `tile ${cls}`;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // audio plays through the <audio> sinks
    const caption = document.createElement("figcaption");
    el.append(video, caption);
    tile = { el, video, caption, key };
    tiles.set(key, tile);
    if (cls.includes("remote")) resizeObserver.observe(el);
  }
  return tile;
}

function attach(el, track) {
  const current = el.srcObject?.getTracks()[0];
  if (current === track) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) el.play?.().catch(() => {});
}

function renderTiles() {
  const container = $("tiles");
  const wanted = [];
  // Our own camera first.
  const cam = localStream?.getVideoTracks()[0];
  if (state.phase === "joined" && cam) {
    const tile = tileFor("self", "self");
    tile.caption.textContent = `${nameOf(state.you)} (${t("you")})`;
    tile.el.dataset.participant = state.you ?? "";
    attach(tile.video, cam);
    wanted.push(tile);
  }
  const sinkMids = new Set();
  for (const rt of state.remoteTracks) {
    if (!state.participants.has(rt.participant)) continue;
    const track = media?.receiverTrack(rt.mid);
    if (rt.kind === "audio") {
      if (!track) continue;
      let sink = sinks.get(rt.mid);
      if (!sink) {
        sink = document.createElement("audio");
        sink.autoplay = true;
        sinks.set(rt.mid, sink);
        $("audio-sinks").append(sink);
      }
      sink.dataset.mid = rt.mid;
      sink.dataset.participant = rt.participant;
      sink.dataset.name = nameOf(rt.participant);
      attach(sink, track);
      sinkMids.add(rt.mid);
      continue;
    }
    const tile = tileFor(`mid:${rt.mid}`, "remote");
    tile.el.dataset.mid = rt.mid;
    tile.el.dataset.participant = rt.participant;
    tile.el.dataset.kind = rt.kind;
    tile.participant = rt.participant;
    tile.kind = rt.kind;
    tile.caption.textContent = rt.kind === "screen" ? `${nameOf(rt.participant)} (${t("screen")})` : nameOf(rt.participant);
    tile.el.classList.toggle("speaking", state.activeSpeaker === rt.participant);
    attach(tile.video, track);
    wanted.push(tile);
  }
  for (const [key, tile] of tiles) {
    if (!wanted.includes(tile)) {
      resizeObserver.unobserve(tile.el);
      tile.video.srcObject = null;
      tile.el.remove();
      tiles.delete(key);
    }
  }
  for (const [mid, sink] of sinks) {
    if (!sinkMids.has(mid)) {
      sink.srcObject = null;
      sink.remove();
      sinks.delete(mid);
    }
  }
  // Keep DOM order = wanted order without needless moves.
  wanted.forEach((tile, i) => {
    if (container.children[i] !== tile.el) container.insertBefore(tile.el, container.children[i] ?? null);
  });
  renderControls();
}

// Tell the SFU how big each remote video is drawn, so it forwards the layer that fits.
const subscribed = new Map(); // "participant/kind" -> max_height
const resizeObserver = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const tile = [...tiles.values()].find((x) => x.el === entry.target);
    if (!tile?.participant) continue;
    const h = Math.round(entry.contentRect.height * (window.devicePixelRatio || 1));
    const key = `${tile.participant}/${tile.kind}`;
    if (subscribed.get(key) === h) continue;
    subscribed.set(key, h);
    send({ type: "subscribe_video", participant: tile.participant, kind: tile.kind, max_height: h });
  }
});

// ---- wiring ----------------------------------------------------------------------------------

function translate() {
  document.documentElement.lang = lang === "nb" ? "nb" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

function leave() {
  send({ type: "leave" });
  stopMedia();
  showEnded(t("closed_left"));
}

function init() {
  translate();
  const name = params.get("name");
  if (name) $("name").value = name.slice(0, 64);
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    join();
  });
  for (const b of document.querySelectorAll("button.leave")) b.addEventListener("click", leave);
  $("rejoin").addEventListener("click", () => {
    state.participants.clear();
    state.chat = [];
    showLobby("");
    join();
  });
  $("chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("chat-text").value.trim();
    if (!text) return;
    send({ type: "chat", to: { kind: "everyone" }, text });
    $("chat-text").value = "";
  });
  $("toggle-mic").addEventListener("click", () => {
    const mic = localStream?.getAudioTracks()[0];
    if (!mic) return;
    mic.enabled = !mic.enabled;
    sendMediaState();
    renderControls();
  });
  $("toggle-cam").addEventListener("click", () => {
    const cam = localStream?.getVideoTracks()[0];
    if (!cam) return;
    cam.enabled = !cam.enabled;
    sendMediaState();
    renderControls();
  });
  window.addEventListener("pagehide", () => send({ type: "leave" }));
  if (!$("name").value) $("name").focus();
}

function sendMediaState() {
  const mic = localStream?.getAudioTracks()[0];
  const cam = localStream?.getVideoTracks()[0];
  send({ type: "set_media", audio_muted: !(mic?.enabled ?? false), video_on: cam?.enabled ?? false });
}

// A small hook for tests: what the page believes. Tests should check the DOM first.
window.samlaDebug = {
  get state() {
    return {
      phase: state.phase,
      you: state.you,
      role: state.role,
      participants: [...state.participants.values()].map((p) => ({ id: p.id, name: p.name, role: p.role })),
      remoteTracks: state.remoteTracks.map((rt) => ({ ...rt, name: nameOf(rt.participant) })),
      tiles: [...tiles.values()].map((x) => ({ key: x.key, participant: x.participant ?? state.you, kind: x.kind ?? "camera", name: x.caption.textContent })),
      chat: state.chat.map((m) => ({ from: m.from_name, text: m.text })),
      simulcast: media?.simulcast ?? null,
      sendEncodings: media?.video?.sender.getParameters().encodings?.map((e) => ({ rid: e.rid, active: e.active, scale: e.scaleResolutionDownBy })) ?? null,
      mediaError: state.mediaError,
      signalingState: media?.pc.signalingState ?? null,
      connectionState: media?.pc.connectionState ?? null,
    };
  },
  get pc() {
    return media?.pc ?? null;
  },
};

init();
