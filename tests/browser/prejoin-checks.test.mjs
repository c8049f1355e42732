// Browser end-to-end test of the checks before joining, with the real web UI in Debian's
// headless Chromium (its fake microphone plays a beep every second): the microphone level
// meter moves with the microphone and is empty when the microphone is turned off, the speaker
// test plays its tone through Web Audio to the end, and another camera picked shows in the
// preview.
//
// See join.test.mjs for how to build and run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { JOIN, createMeeting, openBrowser, screenshot, server, setUp, tearDown, waitFor } from "./harness.mjs";

before(setUp);
after(tearDown);

/** Waits until `meter` has read 20 % or more (the fake microphone beeps once a second);
 * returns the highest reading. */
async function meterMoves(meter, what) {
  let highest = 0;
  await waitFor(
    what,
    async () => {
      highest = Math.max(highest, Number(await meter.getAttribute("aria-valuenow")));
      return highest >= 20;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return highest;
}

test("before joining, the microphone meter moves and the speaker test plays", async (t) => {
  const meeting = await createMeeting({ topic: "Lydsjekk" });
  const { page } = await openBrowser("prejoin-checks");
  await page.goto(`${server.base}/j/${meeting.id}?name=Kari&lang=nb`);
  await page.getByRole("button", { name: JOIN }).waitFor();
  const meter = page.getByRole("meter", { name: "Mikrofonnivå" });
  await meter.waitFor({ timeout: 10_000 });

  // The fake microphone beeps: the meter reads a level well above silence at some point.
  t.diagnostic(`highest meter reading: ${await meterMoves(meter, "the microphone meter to move")} %`);
  await screenshot(page, "50-prejoin-mic-meter");

  // Microphone off: the meter is empty and says so.
  await page.getByLabel("Mikrofon på").uncheck();
  await waitFor("the meter to say the microphone is off", async () => (await meter.getAttribute("aria-valuetext")) === "Mikrofonen er av");
  assert.equal(await meter.getAttribute("aria-valuenow"), "0");
  await page.getByLabel("Mikrofon på").check();

  // Chromium has setSinkId: a speaker picker beside the other pickers when it lists outputs
  // (its fake device lists some), the note about the default speaker otherwise.
  await page.locator("details.devices summary").click();
  const outputs = await page.evaluate(async () =>
    (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audiooutput" && d.deviceId !== "default").map((d) => d.label),
  );
  t.diagnostic(`audio outputs Chromium lists: ${JSON.stringify(outputs)}`);
  if (outputs.length > 0) {
    const picker = page.getByLabel("Høyttaler", { exact: true });
    assert.deepEqual((await picker.locator("option").allTextContents()).slice(1), outputs);
    await picker.selectOption({ label: outputs.at(-1) });
  } else {
    await page.getByText("Lyden spilles av på systemets standardhøyttaler.").waitFor();
  }

  // The speaker test plays its tone (through the chosen output) to the end and asks whether
  // it was heard.
  await page.getByRole("button", { name: "Test høyttaleren" }).click();
  await page.getByText("Spiller av en testtone …").waitFor({ timeout: 5_000 });
  await page.getByText("Hørte du tonen?").waitFor({ timeout: 10_000 });
  await page.locator("details.devices").evaluate((d) => d.scrollIntoView({ block: "end" }));
  await screenshot(page, "51-prejoin-speaker-test");

  // Another camera (Chromium's third fake one; see media.test.mjs for why not the second): the
  // preview plays it, and the meter still reads the microphone.
  const preview = page.locator(".preview video");
  await page.getByLabel("Kamera", { exact: true }).selectOption({ label: "fake_device_2" });
  await waitFor("the preview to show the camera picked", () => preview.evaluate((v) => v.srcObject?.getVideoTracks()[0]?.label === "fake_device_2" || null), {
    timeoutMs: 10_000,
  });
  assert.equal(await page.getByRole("alert").count(), 0, "the camera picked was refused");
  await meterMoves(meter, "the microphone meter to move after the camera changed");
  await screenshot(page, "52-prejoin-camera-picked");
});
