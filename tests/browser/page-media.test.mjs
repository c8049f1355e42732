// The web UI's browser media logic (ui/src/media/browser.ts) against a stand-in SFU, in the
// page the server serves at /j/{id}: the page talks to the real samla-server
// for everything but media; Playwright sits on its WebSocket and answers the media messages
// with a second RTCPeerConnection in another tab. That checks, without the real SFU:
// H.264 + Opus only, simulcast q/h/f, the mids in media_offer, the polite rollback when a
// server offer crosses ours, media_tracks -> a tile captioned from the roster, and media
// flowing both ways.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CLI_BIN, JOIN, createMeeting, inboundStats, openBrowser, screenshot, server, setUp, start, stop, tearDown, tileOf, waitFor,
  waitForLog,
} from "./harness.mjs";

before(setUp);
after(tearDown);

/** Runs in the stand-in tab: one RTCPeerConnection playing the SFU's part. */
function installStandIn() {
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  const gathered = () =>
    pc.iceGatheringState === "complete"
      ? Promise.resolve()
      : new Promise((r) => pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r()));
  window.standIn = {
    pc,
    /** Offers a camera and a microphone track "from" someone; returns their mids and the SDP. */
    async offerTracks() {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      const a = pc.addTransceiver(stream.getAudioTracks()[0], { direction: "sendonly" });
      const v = pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly" });
      const h264 = RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => /h264|rtx/i.test(c.mimeType));
      v.setCodecPreferences(h264);
      await pc.setLocalDescription();
      await gathered();
      return { audioMid: a.mid, videoMid: v.mid, sdp: pc.localDescription.sdp };
    },
    async takeAnswer(sdp) {
      await pc.setRemoteDescription({ type: "answer", sdp });
    },
    async answer(sdp) {
      await pc.setRemoteDescription({ type: "offer", sdp });
      await pc.setLocalDescription();
      await gathered();
      return pc.localDescription.sdp;
    },
    async inbound() {
      const out = [];
      const report = await pc.getStats();
      const codecs = {};
      report.forEach((s) => s.type === "codec" && (codecs[s.id] = s.mimeType));
      report.forEach((s) => {
        if (s.type === "inbound-rtp") {
          out.push({ kind: s.kind, mid: s.mid, packetsReceived: s.packetsReceived, framesDecoded: s.framesDecoded, codec: codecs[s.codecId] });
        }
      });
      return out;
    },
  };
}

test("join page media logic against a stand-in SFU", async (t) => {
  const meeting = await createMeeting({ topic: "Medielogikk" });
  // Vert publishes a camera, so the UI shows Vert's video (a participant with the camera off
  // gets an avatar); the page only ever sees the stand-in's tracks, though: its media
  // messages never reach the server.
  const host = start("cli-medialogic-host", CLI_BIN, [
    "join", meeting.join_url, "--name", "Vert", "--video", "synthetic:320x180@15", "--for", "60s",
  ]);
  // Vert must be in the roster the page gets on joining: the stand-in's tracks are Vert's.
  await waitForLog(host, /joined "Medielogikk"/);
  const { context, page } = await openBrowser("medialogic");
  const standInTab = await context.newPage();
  await standInTab.goto(`${server.base}/healthz`); // any page of the server: a secure context
  await standInTab.evaluate(installStandIn);

  const seen = { offers: [], answers: [], vert: null, log: [] };
  let toPage = null;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const upstream = ws.connectToServer();
    toPage = (msg) => ws.send(JSON.stringify(msg));
    upstream.onMessage((raw) => {
      const msg = JSON.parse(raw);
      // The stand-in is the page's only SFU: the real server's media messages stay out.
      if (msg.type.startsWith("media_")) {
        seen.dropped = (seen.dropped ?? 0) + 1;
        return;
      }
      ws.send(raw);
      if (msg.type === "joined") {
        seen.vert = msg.participants.find((p) => p.name === "Vert")?.id ?? null;
        toPage({ type: "media_config", ice_servers: [] });
      }
    });
    ws.onMessage(async (raw) => {
      const msg = JSON.parse(raw);
      seen.log.push(msg.type);
      if (msg.type === "media_offer") {
        seen.offers.push(msg);
        if (seen.offers.length === 1) {
          // Collide on purpose: ignore the page's first offer (as an impolite SFU does) and
          // send one of ours; the page must roll back, answer, and offer again.
          const { audioMid, videoMid, sdp } = await standInTab.evaluate(() => window.standIn.offerTracks());
          seen.remoteMids = { audioMid, videoMid };
          toPage({
            type: "media_tracks",
            tracks: [
              { mid: audioMid, participant: seen.vert, kind: "audio" },
              { mid: videoMid, participant: seen.vert, kind: "camera" },
            ],
          });
          toPage({ type: "media_offer", sdp });
        } else {
          const sdp = await standInTab.evaluate((o) => window.standIn.answer(o), msg.sdp);
          toPage({ type: "media_answer", sdp });
        }
      } else if (msg.type === "media_answer") {
        seen.answers.push(msg);
        await standInTab.evaluate((a) => window.standIn.takeAnswer(a), msg.sdp);
      } else if (msg.type === "subscribe_video") {
        seen.subscribe = msg;
      } else {
        upstream.send(raw);
      }
    });
  });

  // Background tabs get no rendering (so no ResizeObserver, no subscribe_video): the page
  // under test goes to the front.
  await page.bringToFront();
  await page.goto(`${server.base}/j/${meeting.id}?name=Nettleser&lang=en`);
  await page.getByRole("button", { name: JOIN }).click();
  const tile = tileOf(page, "Vert");
  await tile.waitFor({ timeout: 15_000 });
  assert.ok(seen.vert, "the joined roster has no Vert");

  await waitFor("video in Vert's tile", () => tile.locator("video").evaluate((v) => v.videoWidth > 0), { timeoutMs: 20_000 });
  // The tile plays the track that arrived on the mid media_tracks gave for Vert's camera.
  const tileMid = await tile.locator("video").evaluate((v) => {
    const track = v.srcObject?.getVideoTracks()[0];
    const pc = window.__samlaPcs.filter((p) => p.connectionState !== "closed").at(-1);
    return pc?.getTransceivers().find((x) => x.receiver.track === track)?.mid ?? null;
  });
  assert.equal(tileMid, seen.remoteMids.videoMid);

  // The page's offers: Opus and H.264 only, simulcast q/h/f, and the mids it publishes.
  await waitFor("the page's second offer (after the rollback)", () => seen.offers.length >= 2);
  const offer = seen.offers.at(-1);
  t.diagnostic(`media_offer tracks: ${JSON.stringify(offer.tracks)}; page sent: ${seen.log.join(",")}`);
  assert.deepEqual(offer.tracks.map((x) => x.kind).sort(), ["audio", "camera"]);
  const section = (mid) => offer.sdp.split(/\r\nm=/).find((m) => m.includes(`\r\na=mid:${mid}\r\n`));
  const video = section(offer.tracks.find((x) => x.kind === "camera").mid);
  const audio = section(offer.tracks.find((x) => x.kind === "audio").mid);
  assert.ok(video && audio, "the offer has no m-section for a published mid");
  const rtpmaps = (m) => [...m.matchAll(/a=rtpmap:\d+ ([^/]+)\//g)].map((x) => x[1].toLowerCase());
  assert.deepEqual([...new Set(rtpmaps(video))].filter((c) => c !== "rtx").sort(), ["h264"], `video codecs: ${rtpmaps(video)}`);
  assert.deepEqual([...new Set(rtpmaps(audio))], ["opus"], `audio codecs: ${rtpmaps(audio)}`);
  assert.match(video, /a=simulcast:send q;h;f/);
  assert.match(video, /a=sendonly/);
  assert.equal(seen.answers.length, 1, "the page should answer the stand-in's offer exactly once");

  // Media both ways.
  const mine = await waitFor(
    "the page to decode the stand-in's video and receive its audio",
    async () => {
      const s = await inboundStats(page);
      const v = s.inbound[seen.remoteMids.videoMid];
      const a = s.inbound[seen.remoteMids.audioMid];
      return v?.framesDecoded > 0 && a?.packetsReceived > 0 ? s : null;
    },
    { timeoutMs: 20_000 },
  );
  const theirs = await waitFor(
    "the stand-in to decode the page's video and receive its audio",
    async () => {
      const s = await standInTab.evaluate(() => window.standIn.inbound());
      const v = s.find((x) => x.kind === "video" && x.framesDecoded > 0);
      const a = s.find((x) => x.kind === "audio" && x.packetsReceived > 0);
      return v && a ? s : null;
    },
    { timeoutMs: 20_000 },
  );
  t.diagnostic(`page inbound: ${JSON.stringify(mine.inbound)}`);
  t.diagnostic(`page outbound: ${JSON.stringify(mine.outbound)}`);
  t.diagnostic(`stand-in inbound: ${JSON.stringify(theirs)}`);
  assert.ok(theirs.some((x) => x.kind === "video" && /h264/i.test(x.codec)), "the page did not send H.264");
  assert.ok(mine.outbound.some((x) => x.kind === "video" && /h264/i.test(x.codec)), "the page's outbound video is not H.264");
  assert.ok(seen.subscribe?.participant === seen.vert && seen.subscribe.max_height > 0, `no subscribe_video for Vert's tile: ${JSON.stringify(seen.subscribe)}`);
  const encodings = await page.evaluate(() => {
    const pc = window.__samlaPcs.filter((p) => p.connectionState !== "closed").at(-1);
    const sender = pc.getSenders().find((s) => s.track?.kind === "video");
    return sender.getParameters().encodings.map((e) => ({ rid: e.rid, scale: e.scaleResolutionDownBy ?? 1, active: e.active }));
  });
  t.diagnostic(`send encodings: ${JSON.stringify(encodings)}`);
  // Chromium as answerer takes no simulcast: the page must fall back to one full-size layer.
  assert.deepEqual(encodings.map((e) => e.scale), [1], `send encodings: ${JSON.stringify(encodings)}`);
  await screenshot(page, "30-media-logic-stand-in");
  await stop(host);
});
