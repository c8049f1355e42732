import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { NullMediaBackend } from "../media/browser";
import type { MeetingState, ParticipantInfo } from "../protocol/messages";
import { initialView, reduce, type MeetingView } from "../state/store";
import type { MeetingActions } from "./actions";
import { Meeting, fitTiles } from "./Meeting";
import { ParticipantsPanel } from "./ParticipantsPanel";
import { PreJoin } from "./PreJoin";
import { Waiting } from "./Waiting";
import type { ComponentChildren } from "preact";
import { root, useDomRoot } from "../test/dom-root";
import { meetingState, participant } from "../test/fixtures";

useDomRoot();

function mount(lang: Lang, children: ComponentChildren) {
  act(() => {
    render(<I18nContext.Provider value={{ lang, t: translator(lang) }}>{children}</I18nContext.Provider>, root);
  });
}

const meeting: MeetingState = meetingState({ waiting_room: true });
const person = (id: number, name: string, role: ParticipantInfo["role"] = "participant", extra: Partial<ParticipantInfo> = {}): ParticipantInfo =>
  participant(id, name, { role, ...extra });
const viewAs = (you: number, role: ParticipantInfo["role"]): MeetingView =>
  [
    {
      type: "joined" as const,
      you,
      role,
      resume_token: "t",
      meeting,
      participants: [person(1, "Kari", "host"), person(2, "Ola", "participant", { hand_raised: true })],
      waiting: role === "participant" ? [] : [{ id: 9, name: "Gjest", signed_in: false }],
      chat: [],
    },
  ].reduce(reduce, initialView);

function fakeActions(): MeetingActions {
  const fn = () => vi.fn(() => true);
  return {
    admit: fn(), admitAll: fn(), deny: fn(), sendToWaitingRoom: fn(), setLocked: fn(), endForAll: fn(), remove: fn(),
    setRole: fn(), handOverHost: fn(), mute: fn(), muteAll: fn(), askToUnmute: fn(), setChatPolicy: fn(), setSharePolicy: fn(),
    setMuteOnEntry: fn(), setSelfUnmute: fn(), setSpotlight: fn(), setFeedback: fn(), clearFeedback: fn(), raiseHand: fn(),
    lowerHand: fn(), react: fn(), chat: fn(), subscribeVideo: fn(), startPoll: fn(), vote: fn(), endPoll: fn(), sharePollResults: fn(),
  };
}

const buttons = () => [...root.querySelectorAll("button")].map((b) => b.getAttribute("aria-label") ?? b.textContent?.trim());

describe("Waiting screen", () => {
  it("says in bokmål, nynorsk and English that the host will let you in", () => {
    mount("nb", <Waiting meeting={meeting} onLeave={() => {}} />);
    expect(root.querySelector('[role="status"]')?.textContent).toBe("Venter på at verten slipper deg inn");
    mount("nn", <Waiting meeting={meeting} onLeave={() => {}} />);
    expect(root.querySelector('[role="status"]')?.textContent).toBe("Ventar på at verten slepper deg inn");
    expect(root.textContent).toContain("Matte 101");
    mount("en", <Waiting meeting={meeting} onLeave={() => {}} />);
    expect(root.querySelector('[role="status"]')?.textContent).toBe("Waiting for the host to let you in");
  });
});

describe("participants panel", () => {
  it("shows host controls to the host", () => {
    const actions = fakeActions();
    mount("en", <ParticipantsPanel view={viewAs(1, "host")} actions={actions} />);
    const b = buttons();
    expect(b).toContain("Mute Ola");
    expect(b).toContain("Lower Ola's hand");
    expect(b).toContain("Admit Gjest");
    expect(b).toContain("Lock meeting");
    // Mute at hand, the rest behind "More"; short to read, and each in a group named for Ola.
    const ola = root.querySelector('[aria-label="Actions for Ola"]')!;
    expect(ola.querySelector('button[aria-label="Mute Ola"]')?.textContent).toBe("Mute");
    const more = ola.querySelector("details.more")!;
    expect(more.querySelector("summary")?.getAttribute("aria-label")).toBe("More for Ola");
    expect([...more.querySelectorAll("button")].map((x) => x.textContent)).toEqual([
      "Make co-host",
      "Make host",
      "Spotlight for everyone",
      "Send to the waiting room",
      "Remove from meeting",
    ]);
    const admit = [...root.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Admit Gjest")!;
    act(() => admit.click());
    expect(actions.admit).toHaveBeenCalledWith(9);
  });

  it("offers a search in a class, which finds names whatever their case and accents", async () => {
    let view = viewAs(1, "host");
    mount("nb", <ParticipantsPanel view={view} actions={fakeActions()} />);
    expect(root.querySelector("input[type=search]"), "two people and one waiting need no search").toBeNull();
    const names = ["Øyvind Berg", "Åse Li", "Ærlig Vik", "Per", "Siri", "Nils", "Eva"];
    names.forEach((name, i) => {
      view = reduce(view, { type: "participant_joined", participant: person(20 + i, name) });
    });
    mount("nb", <ParticipantsPanel view={view} actions={fakeActions()} />);
    const search = root.querySelector<HTMLInputElement>('input[aria-label="Finn deltaker"]')!;
    const shown = () => [...root.querySelectorAll(".roster .name")].map((n) => n.textContent);
    const type = (text: string) =>
      act(() => {
        search.value = text;
        search.dispatchEvent(new Event("input"));
      });
    type("oyv");
    expect(shown()).toEqual(["Øyvind Berg"]);
    type("ASE");
    expect(shown()).toEqual(["Åse Li"]);
    type("aerl");
    expect(shown()).toEqual(["Ærlig Vik"]);
    // The waiting room is searched too.
    type("gje");
    expect(shown()).toEqual([]);
    expect([...root.querySelectorAll(".waiting-room .name")].map((n) => n.textContent)).toEqual(["Gjest"]);
    type("");
    expect(shown()).toHaveLength(9);
  });

  it("shows co-hosts moderation but not role changes", () => {
    mount("en", <ParticipantsPanel view={viewAs(2, "co_host")} actions={fakeActions()} />);
    const b = buttons();
    expect(b).toContain("Admit Gjest");
    expect(b).not.toContain("Make co-host");
    expect(b).not.toContain("Make host");
    // The only other person is the host, whom a co-host cannot move or remove.
    expect(root.querySelector("details.more")).toBeNull();
  });

  it("offers the host Ask to unmute for a muted participant, whether or not they may unmute themselves", () => {
    const actions = fakeActions();
    const view = reduce(viewAs(1, "host"), { type: "participant_updated", participant: person(2, "Ola", "participant", { audio_muted: true, may_unmute: false }) });
    mount("en", <ParticipantsPanel view={view} actions={actions} />);
    const ask = root.querySelector<HTMLButtonElement>('[aria-label="Actions for Ola"] button[aria-label="Ask to unmute: Ola"]')!;
    expect(ask.textContent).toBe("Ask to unmute");
    act(() => ask.click());
    expect(actions.askToUnmute).toHaveBeenCalledWith(2);
  });

  it("names the security settings in bokmål and nynorsk", () => {
    const labels = () => [...root.querySelectorAll("fieldset.security label")].map((l) => l.textContent);
    mount("nb", <ParticipantsPanel view={viewAs(1, "host")} actions={fakeActions()} />);
    expect(root.querySelector("fieldset.security legend")?.textContent).toBe("Sikkerhet");
    expect(labels()).toEqual(["Deltakere kan dele skjermen", "Deltakere kan slå på mikrofonen selv", "Demp deltakere når de kommer inn"]);
    mount("nn", <ParticipantsPanel view={viewAs(2, "co_host")} actions={fakeActions()} />);
    expect(labels()).toEqual(["Deltakarar kan dele skjermen", "Deltakarar kan slå på mikrofonen sjølv", "Demp deltakarar når dei kjem inn"]);
  });

  it("shows no host controls to participants", () => {
    mount("nb", <ParticipantsPanel view={viewAs(2, "participant")} actions={fakeActions()} />);
    expect(root.querySelectorAll("button")).toHaveLength(0);
    expect(root.querySelectorAll("input[type=checkbox]")).toHaveLength(0);
    expect(root.textContent).toContain("Kari");
    expect(root.textContent).not.toContain("Venterom");
  });
});

describe("pre-join", () => {
  it("prefills the name, has a Join button and asks for a passcode when needed", () => {
    const onJoin = vi.fn();
    mount("en", <PreJoin meetingId="123456789" initialName="Ola" error="passcode_required" busy={false} devices={[]} onJoin={onJoin} />);
    expect((root.querySelector("#name") as HTMLInputElement).value).toBe("Ola");
    const join = root.querySelector<HTMLButtonElement>("#join")!;
    expect(join.textContent).toBe("Join");
    const pass = root.querySelector<HTMLInputElement>("#passcode")!;
    act(() => {
      pass.value = "4242";
      pass.dispatchEvent(new Event("input", { bubbles: true }));
    });
    act(() => join.click());
    expect(onJoin).toHaveBeenCalledWith(expect.objectContaining({ name: "Ola", passcode: "4242" }));
  });
});

describe("meeting screen", () => {
  it("pins a participant as the main picture, whoever speaks, until unpinned", () => {
    let view = viewAs(1, "host");
    view = reduce(view, { type: "participant_joined", participant: person(3, "Per") });
    view = reduce(view, { type: "active_speaker", participant: 3 });
    const media = new NullMediaBackend();
    const show = (v: MeetingView) =>
      mount("en", <Meeting view={v} media={media} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    show(view);
    expect(root.querySelector('figure.self button.pin')).toBeNull();
    act(() => root.querySelector<HTMLButtonElement>('button[aria-label="Pin Ola as the main picture"]')!.click());
    const main = () => root.querySelector(".main-tile figure")?.getAttribute("data-participant");
    expect(main()).toBe("2");
    expect(root.querySelector('button[aria-label="Unpin Ola"]')?.getAttribute("aria-pressed")).toBe("true");
    act(() => root.querySelector<HTMLButtonElement>('button[aria-label="Unpin Ola"]')!.click());
    // Back to who speaks.
    expect(main()).toBe("3");
  });

  it("shows whoever a host spotlights as everyone's main picture, below one's own pin", () => {
    let view = viewAs(2, "participant");
    view = reduce(view, { type: "participant_joined", participant: person(3, "Per", "participant", { video_on: true }) });
    view = reduce(view, { type: "active_speaker", participant: 3 });
    const media = new NullMediaBackend();
    const show = (v: MeetingView) =>
      mount("en", <Meeting view={v} media={media} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    show(view);
    expect(root.querySelector(".main-tile"), "the gallery until someone is spotlighted").toBeNull();

    view = reduce(view, { type: "meeting_updated", meeting: { ...meeting, spotlight: 1 } });
    show(view);
    const main = () => root.querySelector(".main-tile figure")?.getAttribute("data-participant");
    expect(main(), "Kari, although Per speaks").toBe("1");
    expect(root.querySelector('figure[data-participant="1"]')?.getAttribute("aria-label")).toBe("Kari, in the spotlight");
    expect(root.querySelector(".notices")?.textContent).toContain("Kari is now in the spotlight for everyone.");
    // One's own pin still wins.
    act(() => root.querySelector<HTMLButtonElement>('button[aria-label="Pin Per as the main picture"]')!.click());
    expect(main()).toBe("3");
    act(() => root.querySelector<HTMLButtonElement>('button[aria-label="Unpin Per"]')!.click());
    expect(main()).toBe("1");

    // Spotlighted oneself: told so, and shown the others (not oneself) large.
    view = reduce(view, { type: "meeting_updated", meeting: { ...meeting, spotlight: 2 } });
    show(view);
    expect(root.querySelector(".notices")?.textContent).toContain("You are now in the spotlight: everyone sees your video large.");
    expect(main()).toBe("3");
    // Ended: back to who speaks, with no new notice.
    const notices = view.notices.length;
    view = reduce(view, { type: "meeting_updated", meeting: { ...meeting, spotlight: null } });
    expect(view.notices.length).toBe(notices);
  });

  it("lets a host spotlight themselves or someone, and end it", () => {
    const actions = fakeActions();
    let view = viewAs(1, "host");
    mount("nb", <ParticipantsPanel view={view} actions={actions} />);
    const press = (text: string, within: ParentNode = root) =>
      act(() => [...within.querySelectorAll("button")].find((b) => b.textContent === text)!.click());
    press("Fremhev meg for alle");
    expect(actions.setSpotlight).toHaveBeenLastCalledWith(1);
    const ola = () => root.querySelector('[aria-label="Handlinger for Ola"]')!;
    press("Fremhev for alle", ola());
    expect(actions.setSpotlight).toHaveBeenLastCalledWith(2);
    view = reduce(view, { type: "meeting_updated", meeting: { ...meeting, spotlight: 2 } });
    mount("nb", <ParticipantsPanel view={view} actions={actions} />);
    press("Fjern fremhevingen", ola());
    expect(actions.setSpotlight).toHaveBeenLastCalledWith(null);
    expect([...root.querySelectorAll("button")].some((b) => b.textContent === "Fremhev meg for alle"), "one spotlight at a time").toBe(false);
  });

  it("lets a student answer without words, and the teacher count the answers and clear them", () => {
    const actions = fakeActions();
    let student = viewAs(2, "participant");
    const showStudent = (v: MeetingView) =>
      mount("en", <Meeting view={v} media={new NullMediaBackend()} actions={actions} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    showStudent(student);
    const choices = () => root.querySelector('[role="group"][aria-label="Feedback"]')!;
    const choice = (name: string) => [...choices().querySelectorAll("button")].find((b) => b.textContent?.includes(name))!;
    expect([...choices().querySelectorAll("button")].map((b) => b.textContent)).toEqual(["✓ Yes", "✗ No", "« Slower", "» Faster"]);
    act(() => choice("Slower").click());
    expect(actions.setFeedback).toHaveBeenLastCalledWith("slower");
    // The server's word comes back: the choice shows as pressed, on the tile too; pressed again, it is taken back.
    student = reduce(student, { type: "participant_updated", participant: person(2, "Ola", "participant", { hand_raised: true, feedback: "slower" }) });
    showStudent(student);
    expect(choice("Slower").getAttribute("aria-pressed")).toBe("true");
    expect(root.querySelector('figure[data-participant="2"]')?.getAttribute("aria-label")).toBe("Ola (you), hand raised, answers Slower");
    act(() => choice("Slower").click());
    expect(actions.setFeedback).toHaveBeenLastCalledWith(null);

    // The teacher sees how many answered what, and clears it for the next question.
    let teacher = viewAs(1, "host");
    mount("nb", <ParticipantsPanel view={teacher} actions={actions} />);
    expect(root.querySelector(".feedback-summary"), "nothing to count yet").toBeNull();
    teacher = reduce(teacher, { type: "participant_updated", participant: person(2, "Ola", "participant", { feedback: "slower" }) });
    teacher = reduce(teacher, { type: "participant_joined", participant: person(3, "Per", "participant", { feedback: "yes" }) });
    teacher = reduce(teacher, { type: "participant_joined", participant: person(4, "Siri", "participant", { feedback: "slower" }) });
    mount("nb", <ParticipantsPanel view={teacher} actions={actions} />);
    const summary = root.querySelector('.feedback-summary[aria-label="Tilbakemelding"]')!;
    expect([...summary.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["✓ Ja: 1", "✗ Nei: 0", "« Saktere: 2", "» Raskere: 0"]);
    expect(root.querySelector('[data-participant="4"] .badges')?.textContent).toContain("« Saktere");
    act(() => [...summary.querySelectorAll("button")].find((b) => b.textContent === "Nullstill tilbakemeldinger")!.click());
    expect(actions.clearFeedback).toHaveBeenCalled();
    // Students see each other's answers on the list, not the count.
    mount("nb", <ParticipantsPanel view={reduce(viewAs(3, "participant"), { type: "participant_updated", participant: person(2, "Ola", "participant", { feedback: "no" }) })} actions={actions} />);
    expect(root.querySelector(".feedback-summary")).toBeNull();
  });

  it("keeps telling of a poll to answer while other notices fade", () => {
    vi.useFakeTimers();
    try {
      let view = viewAs(2, "participant");
      view = reduce(view, { type: "meeting_updated", meeting: { ...meeting, spotlight: 1 } });
      view = reduce(view, {
        type: "poll",
        poll: { id: 1, by: 1, question: "Klart?", options: ["Ja", "Nei"], multiple: false, open: true, answered: 0, shared: false, mine: [] },
      });
      const dispatch = vi.fn();
      mount("en", <Meeting view={view} media={new NullMediaBackend()} actions={fakeActions()} dispatch={dispatch} onLeave={() => {}} reconnecting={false} />);
      act(() => void vi.advanceTimersByTime(60_000));
      const dismissed = dispatch.mock.calls.map(([a]) => a).filter((a) => a.type === "local/dismiss_notice").map((a) => a.id);
      const id = (kind: string) => view.notices.find((n) => n.kind === kind)!.id;
      expect(dismissed).toContain(id("spotlight"));
      expect(dismissed).not.toContain(id("poll_started"));
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows the host a raised hand, with Lower hand at hand, and lists raised hands first", () => {
    const actions = fakeActions();
    let view = viewAs(1, "host");
    view = reduce(view, { type: "participant_joined", participant: person(3, "Per") });
    view = reduce(view, { type: "participant_updated", participant: person(3, "Per", "participant", { hand_raised: true }) });
    mount("nb", <Meeting view={view} media={new NullMediaBackend()} actions={actions} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const notice = [...root.querySelectorAll(".notices li")].find((li) => li.textContent?.includes("Per rekker opp hånden."))!;
    act(() => notice.querySelector<HTMLButtonElement>('button[aria-label="Ta ned hånden til Per"]')!.click());
    expect(actions.lowerHand).toHaveBeenCalledWith(3);
    mount("nb", <ParticipantsPanel view={view} actions={actions} />);
    // Ola raised first (viewAs), then Per; Kari's hand is down.
    expect([...root.querySelectorAll(".roster .name")].map((n) => n.textContent)).toEqual(["Ola", "Per", "Kari"]);
    // Two hands up: the host can lower them all at once.
    act(() => [...root.querySelectorAll("button")].find((b) => b.textContent === "Ta ned alle hender (2)")!.click());
    expect(actions.lowerHand).toHaveBeenCalledWith(2);
    expect(actions.lowerHand).toHaveBeenCalledWith(3);
  });

  it("shows the host who is waiting, with Admit at hand", () => {
    const actions = fakeActions();
    const view = reduce(viewAs(1, "host"), { type: "waiting_room", waiting: [{ id: 9, name: "Gjest", signed_in: false }, { id: 10, name: "Per", signed_in: false }] });
    mount("nb", <Meeting view={view} media={new NullMediaBackend()} actions={actions} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const notice = root.querySelector(".notices li")!;
    expect(notice.textContent).toContain("Per venter i venterommet.");
    act(() => notice.querySelector<HTMLButtonElement>('button[aria-label="Slipp inn Per"]')!.click());
    expect(actions.admit).toHaveBeenCalledWith(10);
    act(() => [...notice.querySelectorAll("button")].find((b) => b.textContent === "Vis venterommet")!.click());
    expect(root.querySelector(".panel.participants")).not.toBeNull();
  });

  it("closes an open menu on Escape, back on its button, and on a press outside it", () => {
    mount("en", <Meeting view={viewAs(1, "host")} media={new NullMediaBackend()} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const reactions = root.querySelector<HTMLDetailsElement>("details.reactions")!;
    act(() => {
      reactions.open = true;
    });
    act(() => {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    });
    expect(reactions.open).toBe(false);
    expect(document.activeElement).toBe(reactions.querySelector("summary"));

    // A reaction sent closes its menu.
    const actions = fakeActions();
    mount("en", <Meeting view={viewAs(1, "host")} media={new NullMediaBackend()} actions={actions} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const menu = root.querySelector<HTMLDetailsElement>("details.reactions")!;
    act(() => {
      menu.open = true;
    });
    act(() => root.querySelector<HTMLButtonElement>('details.reactions button[aria-label="Clap"]')!.click());
    expect(actions.react).toHaveBeenCalledWith("clap");
    expect(menu.open).toBe(false);

    const end = root.querySelector<HTMLDetailsElement>("details.end-menu")!;
    act(() => {
      end.open = true;
    });
    // A press inside the menu leaves it open; one elsewhere closes it.
    act(() => void end.querySelector("button")!.dispatchEvent(new Event("pointerdown", { bubbles: true })));
    expect(end.open).toBe(true);
    act(() => void root.querySelector("h1")!.dispatchEvent(new Event("pointerdown", { bubbles: true })));
    expect(end.open).toBe(false);
  });

  it("tells a host who lost the role to the owner, and a co-host who lost theirs, apart", () => {
    const media = new NullMediaBackend();
    const said = (view: MeetingView) => {
      mount("nb", <Meeting view={view} media={media} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
      return root.querySelector(".notices li")?.textContent;
    };
    const host = viewAs(1, "host");
    expect(said(reduce(host, { type: "participant_updated", participant: person(1, "Kari", "participant") }))).toContain(
      "Du er ikke lenger vert. Møteeieren har tatt over.",
    );
    const coHost = reduce(viewAs(2, "participant"), { type: "participant_updated", participant: person(2, "Ola", "co_host") });
    const demoted = reduce({ ...coHost, notices: [] }, { type: "participant_updated", participant: person(2, "Ola", "participant") });
    expect(said(demoted)).toContain("Du er ikke lenger medvert.");
  });

  it("shows the end-for-all button only to the host, an unread badge and keyboard mute", () => {
    const media = new NullMediaBackend();
    const actions = fakeActions();
    let view = viewAs(1, "host");
    view = reduce(view, { type: "chat", message: { seq: 1, from: 2, from_name: "Ola", to: { kind: "everyone" }, text: "Hei", sent_at_ms: 0 } });
    const onLeave = vi.fn();
    mount("nb", <Meeting view={view} media={media} actions={actions} dispatch={() => {}} onLeave={onLeave} reconnecting={false} />);
    // The host's "End" offers leaving (the meeting goes on) or ending it for everyone.
    const endMenu = root.querySelector("details.end-menu")!;
    expect(endMenu.querySelector("summary")?.textContent).toBe("Avslutt");
    expect([...endMenu.querySelectorAll("button")].map((b) => b.textContent)).toEqual(["Forlat møtet", "Avslutt for alle"]);
    act(() => endMenu.querySelector("button")!.click());
    expect(onLeave).toHaveBeenCalledTimes(1);
    expect(actions.endForAll).not.toHaveBeenCalled();
    expect(buttons()).toContain("Chat, 1 uleste");
    expect(root.querySelectorAll("figure.tile")).toHaveLength(2);
    expect(media.local.micMuted).toBe(true);
    act(() => {
      window.dispatchEvent(new KeyboardEvent("keydown", { key: "m" }));
    });
    expect(media.local.micMuted).toBe(false);

    mount("nb", <Meeting view={viewAs(2, "participant")} media={media} actions={actions} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    expect(buttons()).not.toContain("Avslutt for alle");
    expect(root.querySelector("details.end-menu")).toBeNull();
    expect(root.querySelector(".controls > button.danger")?.textContent).toBe("Forlat møtet");
    expect(buttons()).toContain("Ta ned hånden");
  });

  it("pages the gallery at 49 tiles", () => {
    const many = Array.from({ length: 60 }, (_, i) => person(i + 1, `P${i + 1}`, i === 0 ? "host" : "participant"));
    const view = reduce(initialView, { type: "joined", you: 1, role: "host", resume_token: "t", meeting, participants: many, waiting: [], chat: [] });
    mount("en", <Meeting view={view} media={new NullMediaBackend()} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    expect(root.querySelectorAll("figure.tile")).toHaveLength(49);
    expect(root.textContent).toContain("Page 1 of 2");
    const next = [...root.querySelectorAll("button")].find((b) => b.textContent === "Next page")!;
    act(() => next.click());
    expect(root.querySelectorAll("figure.tile")).toHaveLength(11);
  });
});

describe("poll", () => {
  /** A fresh meeting screen, its panels closed. */
  const show = (lang: Lang, view: MeetingView) => {
    act(() => render(null, root));
    mount(lang, <Meeting view={view} media={new NullMediaBackend()} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
  };
  const pollButton = (name: string) => [...root.querySelectorAll<HTMLButtonElement>(".controls > button")].find((b) => b.textContent === name);

  it("is offered to hosts in bokmål and nynorsk, as a form in a panel of its own", () => {
    show("nb", viewAs(1, "host"));
    act(() => pollButton("Avstemning")!.click());
    expect(pollButton("Avstemning")?.getAttribute("aria-pressed")).toBe("true");
    const panel = root.querySelector("section.panel.poll")!;
    expect(root.querySelector(`#${panel.getAttribute("aria-labelledby")}`)?.textContent).toBe("Avstemning");
    expect([...panel.querySelectorAll("label")].map((l) => l.textContent?.trim())).toEqual([
      "Spørsmål",
      "Svar 1",
      "Svar 2",
      "Tillat mer enn ett svar",
    ]);
    expect([...panel.querySelectorAll("button")].map((b) => b.textContent)).toEqual(["Legg til svar", "Start avstemningen"]);

    show("nn", viewAs(1, "host"));
    act(() => pollButton("Røysting")!.click());
    expect([...root.querySelectorAll(".poll button")].map((b) => b.textContent)).toEqual(["Legg til svar", "Start røystinga"]);
  });

  it("is there for participants once a host started one, with results in Norwegian figures", () => {
    let view = viewAs(2, "participant");
    show("nb", view);
    expect(pollButton("Avstemning")).toBeUndefined();
    view = reduce(view, {
      type: "poll",
      poll: { id: 1, by: 1, question: "Hvilket svar er riktig?", options: ["A", "B"], multiple: false, open: true, answered: 0, shared: false, mine: [] },
    });
    show("nb", view);
    expect(root.querySelector(".notices")?.textContent).toContain("Kari startet en avstemning.");
    act(() => pollButton("Avstemning")!.click());
    expect(root.querySelector(".poll legend")?.textContent).toBe("Hvilket svar er riktig?");
    expect([...root.querySelectorAll(".poll button")].map((b) => b.textContent)).toEqual(["Send svar"]);

    view = reduce(view, {
      type: "poll",
      poll: { id: 1, by: 1, question: "Hvilket svar er riktig?", options: ["A", "B"], multiple: false, open: false, answered: 30, results: [12, 18], shared: true, mine: [1] },
    });
    show("nn", view);
    act(() => pollButton("Røysting")!.click());
    expect(root.textContent).toContain("Røystinga er avslutta.");
    expect([...root.querySelectorAll(".poll-results .count")].map((c) => c.textContent?.replace(/\s/g, " "))).toEqual(["12 (40 %)", "18 (60 %)"]);
    expect(root.textContent).toContain("30 har svart");
  });
});

describe("gallery layout", () => {
  it("fits 16:9 tiles as large as the area allows", () => {
    // One tile fills the height of a wide area.
    expect(fitTiles(1, 1600, 450, 8)).toEqual({ cols: 1, w: 800, h: 450 });
    // Two side by side in a wide area, two above each other in a tall one.
    expect(fitTiles(2, 1608, 450, 8).cols).toBe(2);
    expect(fitTiles(2, 400, 1000, 8).cols).toBe(1);
    // Nine in a 16:9 area: 3 × 3.
    const nine = fitTiles(9, 1600 + 16, 900 + 16, 8);
    expect(nine).toEqual({ cols: 3, w: 533, h: 300 });
    // 49 never spill out of the area.
    const many = fitTiles(49, 1280, 600, 8);
    const rows = Math.ceil(49 / many.cols);
    expect(many.cols * many.w + (many.cols - 1) * 8).toBeLessThanOrEqual(1280);
    expect(rows * many.h + (rows - 1) * 8).toBeLessThanOrEqual(600);
  });
});

describe("meeting header", () => {
  it("shows the meeting id and the link to join by, in the chosen language", () => {
    mount("nn", (
      <Meeting
        view={viewAs(1, "host")}
        media={new NullMediaBackend()}
        actions={fakeActions()}
        dispatch={() => {}}
        onLeave={() => {}}
        reconnecting={false}
        joinUrl="https://møte.uio.no/j/123456789"
      />
    ));
    expect(root.querySelector(".bar .meeting-id")?.textContent).toContain("Møte-ID 123 456 789");
    expect(root.querySelector('[aria-label="Møtelenkje"]')?.textContent).toBe("https://møte.uio.no/j/123456789");
    expect(buttons()).toContain("Kopier lenkja");
  });
});
