// The one message catalogue: every text the UI shows, in bokmål (nb), nynorsk (nn) and
// English (en), side by side. `satisfies` makes a missing language a compile error, and
// `MessageKey` makes a misspelt key one. `{name}` placeholders are filled in by `t()`.

export const LANGUAGES = ["nb", "nn", "en"] as const;
export type Lang = (typeof LANGUAGES)[number];

type Entry = Readonly<Record<Lang, string>>;

export const messages = {
  // ---- general ----
  appName: { nb: "Samla", nn: "Samla", en: "Samla" },
  language: { nb: "Språk", nn: "Språk", en: "Language" },
  languageSystem: { nb: "Som systemet", nn: "Som systemet", en: "Same as system" },
  langNb: { nb: "Norsk bokmål", nn: "Norsk bokmål", en: "Norwegian Bokmål" },
  langNn: { nb: "Norsk nynorsk", nn: "Norsk nynorsk", en: "Norwegian Nynorsk" },
  langEn: { nb: "Engelsk", nn: "Engelsk", en: "English" },
  close: { nb: "Lukk", nn: "Lukk", en: "Close" },
  cancel: { nb: "Avbryt", nn: "Avbryt", en: "Cancel" },
  you: { nb: "deg", nn: "deg", en: "you" },
  youSuffix: { nb: "{name} (deg)", nn: "{name} (deg)", en: "{name} (you)" },
  host: { nb: "vert", nn: "vert", en: "host" },
  coHost: { nb: "medvert", nn: "medvert", en: "co-host" },
  guest: { nb: "gjest", nn: "gjest", en: "guest" },

  // ---- home ----
  homeTitle: { nb: "Velkommen til Samla", nn: "Velkomen til Samla", en: "Welcome to Samla" },
  serverHost: { nb: "Server", nn: "Tenar", en: "Server" },
  serverHostHint: {
    nb: "For eksempel møte.uio.no",
    nn: "Til dømes møte.uio.no",
    en: "For example meet.uio.no",
  },
  joinByLinkOrId: {
    nb: "Møtelenke eller møte-ID",
    nn: "Møtelenkje eller møte-ID",
    en: "Meeting link or meeting ID",
  },
  joinMeeting: { nb: "Bli med i møte", nn: "Bli med i møte", en: "Join a meeting" },
  invalidMeetingId: {
    nb: "Det er ikke en gyldig møte-ID. En møte-ID har 9 til 11 sifre.",
    nn: "Det er ikkje ein gyldig møte-ID. Ein møte-ID har 9 til 11 siffer.",
    en: "That is not a valid meeting ID. A meeting ID has 9 to 11 digits.",
  },
  hostMeeting: { nb: "Start et møte", nn: "Start eit møte", en: "Host a meeting" },
  meetingTopic: { nb: "Emne", nn: "Emne", en: "Topic" },
  apiToken: { nb: "API-nøkkel", nn: "API-nøkkel", en: "API token" },
  apiTokenHint: {
    nb: "Nøkkelen får du fra IT-avdelingen, som lager den med «samla-server token create --user e-postadressen-din».",
    nn: "Nøkkelen får du frå IT-avdelinga, som lagar han med «samla-server token create --user e-postadressa-di».",
    en: "Your IT staff give you the token; they make it with “samla-server token create --user your-email”.",
  },
  useWaitingRoom: { nb: "Bruk venterom", nn: "Bruk venterom", en: "Use a waiting room" },
  creating: { nb: "Oppretter møtet …", nn: "Opprettar møtet …", en: "Creating the meeting…" },
  createFailed: {
    nb: "Kunne ikke opprette møtet: {reason}",
    nn: "Kunne ikkje opprette møtet: {reason}",
    en: "Could not create the meeting: {reason}",
  },
  signInToHost: {
    nb: "Logg inn under Innstillinger for å starte møter og se de planlagte møtene dine.",
    nn: "Logg inn under Innstillingar for å starte møte og sjå dei planlagde møta dine.",
    en: "Sign in under Settings to host meetings and see your scheduled ones.",
  },
  signedInShort: { nb: "Logget inn som {name}", nn: "Logga inn som {name}", en: "Signed in as {name}" },
  upcomingMeetings: { nb: "Mine kommende møter", nn: "Mine komande møte", en: "My upcoming meetings" },
  loadingMeetings: { nb: "Henter møtene …", nn: "Hentar møta …", en: "Fetching your meetings…" },
  noUpcomingMeetings: {
    nb: "Du har ingen planlagte møter framover.",
    nn: "Du har ingen planlagde møte framover.",
    en: "You have no meetings scheduled ahead.",
  },
  meetingsFailed: {
    nb: "Kunne ikke hente møtene dine: {reason}",
    nn: "Kunne ikkje hente møta dine: {reason}",
    en: "Could not fetch your meetings: {reason}",
  },
  minutes: { nb: "{n} min", nn: "{n} min", en: "{n} min" },
  meetingInProgress: { nb: "pågår nå", nn: "pågår no", en: "in progress" },
  startMeeting: { nb: "Start", nn: "Start", en: "Start" },
  startMeetingNamed: { nb: "Start «{topic}»", nn: "Start «{topic}»", en: "Start “{topic}”" },
  deleteMeeting: { nb: "Slett", nn: "Slett", en: "Delete" },
  deleteMeetingNamed: { nb: "Slett «{topic}»", nn: "Slett «{topic}»", en: "Delete “{topic}”" },
  deleteMeetingConfirm: {
    nb: "Slette «{topic}»? Lenken til møtet slutter å virke.",
    nn: "Slette «{topic}»? Lenkja til møtet sluttar å verke.",
    en: "Delete “{topic}”? Its link stops working.",
  },
  deleteMeetingFailed: {
    nb: "Kunne ikke slette møtet: {reason}",
    nn: "Kunne ikkje slette møtet: {reason}",
    en: "Could not delete the meeting: {reason}",
  },
  scheduleMeeting: { nb: "Planlegg et møte", nn: "Planlegg eit møte", en: "Schedule a meeting" },
  startsAt: { nb: "Starter", nn: "Startar", en: "Starts" },
  duration: { nb: "Varighet", nn: "Varigheit", en: "Duration" },
  passcodeOptional: { nb: "Passord (valgfritt)", nn: "Passord (valfritt)", en: "Passcode (optional)" },
  schedule: { nb: "Planlegg", nn: "Planlegg", en: "Schedule" },
  meetingScheduled: { nb: "Møtet er planlagt.", nn: "Møtet er planlagt.", en: "The meeting is scheduled." },
  scheduleFailed: {
    nb: "Kunne ikke planlegge møtet: {reason}",
    nn: "Kunne ikkje planleggje møtet: {reason}",
    en: "Could not schedule the meeting: {reason}",
  },
  startInPast: {
    nb: "Velg et tidspunkt fram i tid.",
    nn: "Vel eit tidspunkt fram i tid.",
    en: "Choose a time ahead.",
  },

  // ---- settings ----
  settings: { nb: "Innstillinger", nn: "Innstillingar", en: "Settings" },
  signInHeading: { nb: "Pålogging", nn: "Pålogging", en: "Sign-in" },
  signInExplained: {
    nb: "Logg inn på {server} med API-nøkkelen din for å starte møter og se møtene dine.",
    nn: "Logg inn på {server} med API-nøkkelen din for å starte møte og sjå møta dine.",
    en: "Sign in to {server} with your API token to host meetings and see yours.",
  },
  chooseServerFirst: {
    nb: "Velg en server på startsiden først.",
    nn: "Vel ein tenar på startsida først.",
    en: "Choose a server on the home screen first.",
  },
  signIn: { nb: "Logg inn", nn: "Logg inn", en: "Sign in" },
  signOut: { nb: "Logg ut", nn: "Logg ut", en: "Sign out" },
  checkingToken: { nb: "Sjekker nøkkelen …", nn: "Sjekkar nøkkelen …", en: "Checking the token…" },
  signedInAs: {
    nb: "Logget inn som {name} ({email}), {organisation}.",
    nn: "Logga inn som {name} ({email}), {organisation}.",
    en: "Signed in as {name} ({email}), {organisation}.",
  },
  tokenRefused: {
    nb: "Serveren godtok ikke nøkkelen: {reason}",
    nn: "Tenaren godtok ikkje nøkkelen: {reason}",
    en: "The server did not accept the token: {reason}",
  },
  tokenKeptKeyring: {
    nb: "Nøkkelen er lagret i systemets nøkkelring.",
    nn: "Nøkkelen er lagra i nøkkelringen til systemet.",
    en: "The token is kept in the system's keyring.",
  },
  tokenKeptTab: {
    nb: "Nøkkelen huskes bare i denne fanen.",
    nn: "Nøkkelen vert berre hugsa i denne fana.",
    en: "The token is remembered in this tab only.",
  },
  tokenNotKept: {
    nb: "Nøkkelen kunne ikke lagres ({reason}). Den brukes til appen lukkes.",
    nn: "Nøkkelen kunne ikkje lagrast ({reason}). Han vert brukt til appen vert lukka.",
    en: "The token could not be stored ({reason}). It is used until the app closes.",
  },
  joiningHeading: { nb: "Når jeg blir med i et møte", nn: "Når eg blir med i eit møte", en: "When I join a meeting" },
  joinMutedSetting: { nb: "Mikrofonen er av", nn: "Mikrofonen er av", en: "My microphone is off" },
  joinCameraOffSetting: { nb: "Kameraet er av", nn: "Kameraet er av", en: "My camera is off" },

  // ---- pre-join ----
  meeting: { nb: "Møte", nn: "Møte", en: "Meeting" },
  meetingIdLabel: { nb: "Møte-ID {id}", nn: "Møte-ID {id}", en: "Meeting ID {id}" },
  yourName: { nb: "Navnet ditt", nn: "Namnet ditt", en: "Your name" },
  nameNeeded: { nb: "Skriv navnet ditt.", nn: "Skriv namnet ditt.", en: "Type your name." },
  passcode: { nb: "Passord", nn: "Passord", en: "Passcode" },
  passcodeRequired: {
    nb: "Møtet har passord. Skriv det inn for å bli med.",
    nn: "Møtet har passord. Skriv det inn for å bli med.",
    en: "This meeting has a passcode. Enter it to join.",
  },
  wrongPasscode: { nb: "Feil passord.", nn: "Feil passord.", en: "Wrong passcode." },
  join: { nb: "Bli med", nn: "Bli med", en: "Join" },
  joinWithMicOn: { nb: "Mikrofon på", nn: "Mikrofon på", en: "Microphone on" },
  joinWithCameraOn: { nb: "Kamera på", nn: "Kamera på", en: "Camera on" },
  microphone: { nb: "Mikrofon", nn: "Mikrofon", en: "Microphone" },
  camera: { nb: "Kamera", nn: "Kamera", en: "Camera" },
  speaker: { nb: "Høyttaler", nn: "Høgtalar", en: "Speaker" },
  defaultDevice: { nb: "Standard", nn: "Standard", en: "Default" },
  devicesLater: {
    nb: "Du får velge enheter når nettleseren har gitt tilgang.",
    nn: "Du får velje einingar når nettlesaren har gjeve tilgang.",
    en: "You can choose devices once the browser has granted access.",
  },
  connecting: { nb: "Kobler til …", nn: "Koplar til …", en: "Connecting…" },
  back: { nb: "Tilbake", nn: "Tilbake", en: "Back" },
  cameraPreview: { nb: "Forhåndsvisning av kameraet", nn: "Førehandsvising av kameraet", en: "Camera preview" },
  cameraIsOff: { nb: "Kameraet er av", nn: "Kameraet er av", en: "The camera is off" },
  joinOptions: { nb: "Lyd og bilde", nn: "Lyd og bilete", en: "Audio and video" },
  micLevel: { nb: "Mikrofonnivå", nn: "Mikrofonnivå", en: "Microphone level" },
  micLevelOff: { nb: "Mikrofonen er av", nn: "Mikrofonen er av", en: "The microphone is off" },
  micLevelHint: {
    nb: "Si noe: måleren skal bevege seg.",
    nn: "Sei noko: målaren skal røre seg.",
    en: "Say something: the meter should move.",
  },
  testSpeaker: { nb: "Test høyttaleren", nn: "Test høgtalaren", en: "Test speaker" },
  playingTestSound: { nb: "Spiller av en testtone …", nn: "Spelar av ein testtone …", en: "Playing a test tone…" },
  testSoundPlayed: {
    nb: "Hørte du tonen? Hvis ikke, velg en annen høyttaler eller skru opp lyden.",
    nn: "Høyrde du tonen? Viss ikkje, vel ein annan høgtalar eller skru opp lyden.",
    en: "Did you hear the tone? If not, choose another speaker or turn the volume up.",
  },
  testSoundFailed: { nb: "Kunne ikke spille av testtonen.", nn: "Kunne ikkje spele av testtonen.", en: "Could not play the test tone." },
  speakerRefused: {
    nb: "Den høyttaleren kunne ikke åpnes. Lyden spilles fortsatt av der den ble spilt av før.",
    nn: "Den høgtalaren kunne ikkje opnast. Lyden vert framleis spelt av der han vart spelt av før.",
    en: "That speaker could not be opened. Sound still plays where it did before.",
  },
  devicesMenu: { nb: "Enheter", nn: "Einingar", en: "Devices" },
  deviceRefused: {
    nb: "Den enheten kunne ikke åpnes. Den forrige er fortsatt i bruk.",
    nn: "Den eininga kunne ikkje opnast. Den førre er framleis i bruk.",
    en: "That device could not be opened. The one before is still in use.",
  },
  outputFixed: {
    nb: "Lyden spilles av på systemets standardhøyttaler.",
    nn: "Lyden vert spelt av på standardhøgtalaren til systemet.",
    en: "Sound plays through the system's default speaker.",
  },

  // ---- waiting ----
  waitingRoom: { nb: "Venterom", nn: "Venterom", en: "Waiting room" },
  waitingForHost: {
    nb: "Venter på at verten slipper deg inn",
    nn: "Ventar på at verten slepper deg inn",
    en: "Waiting for the host to let you in",
  },
  waitingDetail: {
    nb: "Verten vet at du venter. Du kommer inn i møtet «{topic}» så snart du blir sluppet inn.",
    nn: "Verten veit at du ventar. Du kjem inn i møtet «{topic}» så snart du blir sleppt inn.",
    en: "The host knows you are waiting. You will enter “{topic}” as soon as you are let in.",
  },

  // ---- meeting: controls ----
  mute: { nb: "Slå av lyden", nn: "Slå av lyden", en: "Mute" },
  unmute: { nb: "Slå på lyden", nn: "Slå på lyden", en: "Unmute" },
  stopVideo: { nb: "Slå av kamera", nn: "Slå av kamera", en: "Stop video" },
  startVideo: { nb: "Slå på kamera", nn: "Slå på kamera", en: "Start video" },
  shareScreen: { nb: "Del skjerm", nn: "Del skjerm", en: "Share screen" },
  stopSharing: { nb: "Stopp deling", nn: "Stopp deling", en: "Stop sharing" },
  raiseHand: { nb: "Rekk opp hånden", nn: "Rekk opp handa", en: "Raise hand" },
  lowerHand: { nb: "Ta ned hånden", nn: "Ta ned handa", en: "Lower hand" },
  reactions: { nb: "Reaksjoner", nn: "Reaksjonar", en: "Reactions" },
  leaveMeeting: { nb: "Forlat møtet", nn: "Forlat møtet", en: "Leave meeting" },
  endMenu: { nb: "Avslutt", nn: "Avslutt", en: "End" },
  endForAll: { nb: "Avslutt for alle", nn: "Avslutt for alle", en: "End for all" },
  endForAllConfirm: {
    nb: "Vil du avslutte møtet for alle?",
    nn: "Vil du avslutte møtet for alle?",
    en: "End the meeting for everyone?",
  },
  galleryView: { nb: "Gallerivisning", nn: "Gallerivising", en: "Gallery view" },
  speakerView: { nb: "Talervisning", nn: "Talarvising", en: "Speaker view" },
  previousPage: { nb: "Forrige side", nn: "Førre side", en: "Previous page" },
  nextPage: { nb: "Neste side", nn: "Neste side", en: "Next page" },
  pageOf: { nb: "Side {page} av {pages}", nn: "Side {page} av {pages}", en: "Page {page} of {pages}" },
  videoArea: { nb: "Video", nn: "Video", en: "Video" },
  meetingControls: { nb: "Møtekontroller", nn: "Møtekontrollar", en: "Meeting controls" },
  shortcutsHint: {
    nb: "Hurtigtaster: M slår lyden av og på, V slår kameraet av og på, hold inne mellomrom for å snakke mens lyden er av.",
    nn: "Snøggtastar: M slår lyden av og på, V slår kameraet av og på, hald inne mellomrom for å snakke medan lyden er av.",
    en: "Shortcuts: M mutes and unmutes, V turns the camera on and off, hold space to talk while muted.",
  },
  pushToTalk: { nb: "Snakker (mellomrom)", nn: "Snakkar (mellomrom)", en: "Talking (space)" },
  speaking: { nb: "snakker", nn: "snakkar", en: "speaking" },
  micOff: { nb: "lyd av", nn: "lyd av", en: "muted" },
  cameraOff: { nb: "kamera av", nn: "kamera av", en: "camera off" },
  handRaised: { nb: "hånd oppe", nn: "hand oppe", en: "hand raised" },
  handRaisedBy: { nb: "{name} rekker opp hånden.", nn: "{name} rekkjer opp handa.", en: "{name} raised a hand." },
  reconnecting: {
    nb: "Forbindelsen ble brutt. Kobler til igjen …",
    nn: "Sambandet vart brote. Koplar til att …",
    en: "The connection dropped. Reconnecting…",
  },
  screenOf: { nb: "Skjermen til {name}", nn: "Skjermen til {name}", en: "{name}'s screen" },
  locked: { nb: "Låst", nn: "Låst", en: "Locked" },
  meetingLink: { nb: "Møtelenke", nn: "Møtelenkje", en: "Meeting link" },
  copyLink: { nb: "Kopier lenken", nn: "Kopier lenkja", en: "Copy link" },
  copyLinkOf: { nb: "Kopier lenken til «{topic}»", nn: "Kopier lenkja til «{topic}»", en: "Copy link to “{topic}”" },
  linkCopied: { nb: "Lenken er kopiert.", nn: "Lenkja er kopiert.", en: "Link copied." },

  reaction_thumbs_up: { nb: "Tommel opp", nn: "Tommel opp", en: "Thumbs up" },
  reaction_clap: { nb: "Klapp", nn: "Klapp", en: "Clap" },
  reaction_heart: { nb: "Hjerte", nn: "Hjarte", en: "Heart" },
  reaction_laugh: { nb: "Latter", nn: "Latter", en: "Laugh" },
  reaction_surprised: { nb: "Overrasket", nn: "Overraska", en: "Surprised" },
  reaction_celebrate: { nb: "Feiring", nn: "Feiring", en: "Celebrate" },
  reactionFrom: { nb: "{name}: {reaction}", nn: "{name}: {reaction}", en: "{name}: {reaction}" },

  // ---- chat ----
  chat: { nb: "Chat", nn: "Chat", en: "Chat" },
  chatUnread: {
    nb: "Chat, {count} uleste",
    nn: "Chat, {count} ulesne",
    en: "Chat, {count} unread",
  },
  chatTo: { nb: "Til", nn: "Til", en: "To" },
  everyone: { nb: "Alle", nn: "Alle", en: "Everyone" },
  hostsOnly: { nb: "Vertene", nn: "Vertane", en: "Hosts" },
  writeMessage: { nb: "Skriv en melding", nn: "Skriv ei melding", en: "Write a message" },
  send: { nb: "Send", nn: "Send", en: "Send" },
  privateTo: { nb: "Privat til {name}", nn: "Privat til {name}", en: "Privately to {name}" },
  privateFromTo: { nb: "Privat til deg", nn: "Privat til deg", en: "Privately to you" },
  toHosts: { nb: "Til vertene", nn: "Til vertane", en: "To the hosts" },
  noMessages: { nb: "Ingen meldinger ennå.", nn: "Ingen meldingar enno.", en: "No messages yet." },
  chatDisabled: {
    nb: "Verten har slått av chatten.",
    nn: "Verten har slått av chatten.",
    en: "The host has turned chat off.",
  },
  chatPolicy: { nb: "Hvem kan chatte", nn: "Kven kan chatte", en: "Who can chat" },
  chatPolicy_everyone: { nb: "Alle", nn: "Alle", en: "Everyone" },
  chatPolicy_hosts_only: {
    nb: "Bare til vertene",
    nn: "Berre til vertane",
    en: "Only to the hosts",
  },
  chatPolicy_off: { nb: "Ingen (av)", nn: "Ingen (av)", en: "No one (off)" },

  // ---- participants and host controls ----
  participants: { nb: "Deltakere", nn: "Deltakarar", en: "Participants" },
  participantsCount: { nb: "Deltakere ({count})", nn: "Deltakarar ({count})", en: "Participants ({count})" },
  admit: { nb: "Slipp inn", nn: "Slepp inn", en: "Admit" },
  admitAll: { nb: "Slipp inn alle", nn: "Slepp inn alle", en: "Admit all" },
  admitThese: { nb: "Slipp inn alle {count}", nn: "Slepp inn alle {count}", en: "Admit all {count}" },
  showWaitingRoom: { nb: "Vis venterommet", nn: "Vis venterommet", en: "Show waiting room" },
  waitingNoticeOne: { nb: "{name} venter i venterommet.", nn: "{name} ventar i venterommet.", en: "{name} is in the waiting room." },
  waitingNoticeMany: {
    nb: "{name} og {count} til venter i venterommet.",
    nn: "{name} og {count} til ventar i venterommet.",
    en: "{name} and {count} more are in the waiting room.",
  },
  deny: { nb: "Avvis", nn: "Avvis", en: "Deny" },
  admitName: { nb: "Slipp inn {name}", nn: "Slepp inn {name}", en: "Admit {name}" },
  denyName: { nb: "Avvis {name}", nn: "Avvis {name}", en: "Deny {name}" },
  waitingCount: { nb: "{count} venter", nn: "{count} ventar", en: "{count} waiting" },
  muteParticipant: { nb: "Slå av lyden til {name}", nn: "Slå av lyden til {name}", en: "Mute {name}" },
  askToUnmute: {
    nb: "Be om lyd fra {name}",
    nn: "Be om lyd frå {name}",
    en: "Ask to unmute: {name}",
  },
  muteAll: { nb: "Slå av lyden for alle", nn: "Slå av lyden for alle", en: "Mute all" },
  removeConfirm: {
    nb: "Fjerne {name} fra møtet? Personen kan ikke komme tilbake.",
    nn: "Fjerne {name} frå møtet? Personen kan ikkje kome tilbake.",
    en: "Remove {name} from the meeting? They cannot come back.",
  },
  lowerHandOf: { nb: "Ta ned hånden til {name}", nn: "Ta ned handa til {name}", en: "Lower {name}'s hand" },
  lockMeeting: { nb: "Lås møtet", nn: "Lås møtet", en: "Lock meeting" },
  unlockMeeting: { nb: "Lås opp møtet", nn: "Lås opp møtet", en: "Unlock meeting" },
  hostControls: { nb: "Vertskontroller", nn: "Vertskontrollar", en: "Host controls" },
  actionsFor: { nb: "Handlinger for {name}", nn: "Handlingar for {name}", en: "Actions for {name}" },
  askToUnmuteShort: { nb: "Be om lyd", nn: "Be om lyd", en: "Ask to unmute" },
  more: { nb: "Mer", nn: "Meir", en: "More" },
  moreFor: { nb: "Mer for {name}", nn: "Meir for {name}", en: "More for {name}" },
  makeCoHost: { nb: "Gjør til medvert", nn: "Gjer til medvert", en: "Make co-host" },
  revokeCoHost: { nb: "Fjern som medvert", nn: "Fjern som medvert", en: "Remove as co-host" },
  makeHost: { nb: "Gjør til vert", nn: "Gjer til vert", en: "Make host" },
  sendToWaitingRoom: { nb: "Send til venterommet", nn: "Send til venterommet", en: "Send to the waiting room" },
  removeParticipant: { nb: "Fjern fra møtet", nn: "Fjern frå møtet", en: "Remove from meeting" },
  nobodyWaiting: { nb: "Ingen venter.", nn: "Ingen ventar.", en: "Nobody is waiting." },
  reconnectingParticipant: { nb: "kobler til igjen", nn: "koplar til att", en: "reconnecting" },
  signedIn: { nb: "innlogget", nn: "innlogga", en: "signed in" },

  // ---- notices ----
  mutedByHost: {
    nb: "{name} slo av lyden din.",
    nn: "{name} slo av lyden din.",
    en: "{name} muted you.",
  },
  unmuteRequested: {
    nb: "{name} ber deg slå på lyden.",
    nn: "{name} bed deg slå på lyden.",
    en: "{name} asks you to unmute.",
  },
  youAreHost: { nb: "Du er nå vert.", nn: "Du er no vert.", en: "You are now the host." },
  youAreCoHost: { nb: "Du er nå medvert.", nn: "Du er no medvert.", en: "You are now a co-host." },
  youAreCoHostNotHost: {
    nb: "Du er ikke lenger vert, men medvert.",
    nn: "Du er ikkje lenger vert, men medvert.",
    en: "You are no longer the host, but a co-host.",
  },
  youAreNoLongerHost: {
    nb: "Du er ikke lenger vert. Møteeieren har tatt over.",
    nn: "Du er ikkje lenger vert. Møteeigaren har teke over.",
    en: "You are no longer the host. The meeting's owner has taken over.",
  },
  youAreParticipant: {
    nb: "Du er ikke lenger medvert.",
    nn: "Du er ikkje lenger medvert.",
    en: "You are no longer a co-host.",
  },
  participantRemoved: {
    nb: "{name} ble fjernet fra møtet.",
    nn: "{name} vart fjerna frå møtet.",
    en: "{name} was removed from the meeting.",
  },
  mediaDenied: {
    nb: "Fikk ikke tilgang til kamera eller mikrofon. Du er med uten.",
    nn: "Fekk ikkje tilgang til kamera eller mikrofon. Du er med utan.",
    en: "No access to camera or microphone. You are in without them.",
  },
  speakerMissing: {
    nb: "Fant ingen høyttaler. Du hører ikke de andre.",
    nn: "Fann ingen høgtalar. Du høyrer ikkje dei andre.",
    en: "No speaker found. You cannot hear the others.",
  },
  mediaConnecting: { nb: "Kobler til lyd og bilde …", nn: "Koplar til lyd og bilete …", en: "Connecting audio and video…" },
  mediaFailed: {
    nb: "Lyd og bilde fikk ikke forbindelse.",
    nn: "Lyd og bilete fekk ikkje samband.",
    en: "Audio and video could not connect.",
  },

  // ---- ended ----
  closed_left: { nb: "Du har forlatt møtet.", nn: "Du har forlate møtet.", en: "You left the meeting." },
  closed_denied: {
    nb: "Verten slapp deg ikke inn.",
    nn: "Verten sleppte deg ikkje inn.",
    en: "The host did not let you in.",
  },
  closed_removed: {
    nb: "Du ble fjernet fra møtet.",
    nn: "Du vart fjerna frå møtet.",
    en: "You were removed from the meeting.",
  },
  closed_meeting_ended: { nb: "Møtet er avsluttet.", nn: "Møtet er avslutta.", en: "The meeting has ended." },
  closed_replaced: {
    nb: "Du ble med fra et annet vindu.",
    nn: "Du vart med frå eit anna vindauge.",
    en: "You joined from another window.",
  },
  connectionLost: {
    nb: "Forbindelsen til serveren ble brutt.",
    nn: "Sambandet til tenaren vart brote.",
    en: "The connection to the server was lost.",
  },
  noServer: {
    nb: "Fikk ikke kontakt med serveren.",
    nn: "Fekk ikkje kontakt med tenaren.",
    en: "Could not reach the server.",
  },
  rejoin: { nb: "Bli med igjen", nn: "Bli med att", en: "Join again" },
  toStart: { nb: "Til forsiden", nn: "Til framsida", en: "Back to start" },

  // ---- server errors (by ErrorCode) ----
  error_meeting_not_found: {
    nb: "Fant ikke møtet.",
    nn: "Fann ikkje møtet.",
    en: "Meeting not found.",
  },
  error_meeting_ended: { nb: "Møtet er avsluttet.", nn: "Møtet er avslutta.", en: "The meeting has ended." },
  error_too_many_attempts: {
    nb: "For mange feil passord. Prøv igjen senere.",
    nn: "For mange feil passord. Prøv att seinare.",
    en: "Too many wrong passcodes. Try again later.",
  },
  error_meeting_locked: {
    nb: "Møtet er låst.",
    nn: "Møtet er låst.",
    en: "The meeting is locked.",
  },
  error_sign_in_required: {
    nb: "Du må være logget inn for å bli med i dette møtet.",
    nn: "Du må vere logga inn for å bli med i dette møtet.",
    en: "You must be signed in to join this meeting.",
  },
  error_invalid_token: {
    nb: "API-nøkkelen er ikke gyldig.",
    nn: "API-nøkkelen er ikkje gyldig.",
    en: "The API token is not valid.",
  },
  error_removed_from_meeting: {
    nb: "Du er fjernet fra dette møtet og kan ikke bli med igjen.",
    nn: "Du er fjerna frå dette møtet og kan ikkje bli med att.",
    en: "You were removed from this meeting and cannot join again.",
  },
  error_not_allowed: {
    nb: "Du har ikke lov til å gjøre det.",
    nn: "Du har ikkje lov til å gjere det.",
    en: "You are not allowed to do that.",
  },
  error_chat_not_allowed: {
    nb: "Du kan ikke sende denne meldingen nå.",
    nn: "Du kan ikkje sende denne meldinga no.",
    en: "You cannot send this message now.",
  },
  error_generic: {
    nb: "Noe gikk galt: {message}",
    nn: "Noko gjekk gale: {message}",
    en: "Something went wrong: {message}",
  },
  // ---- desktop app ----
  desktopHostHere: {
    nb: "Start et møte på denne maskinen",
    nn: "Start eit møte på denne maskina",
    en: "Host a meeting on this computer",
  },
  desktopHosting: { nb: "Starter møtet …", nn: "Startar møtet …", en: "Starting the meeting…" },
  desktopJoinLink: { nb: "Andre blir med via denne lenken:", nn: "Andre blir med via denne lenkja:", en: "Others join with this link:" },
  desktopHostFailed: {
    nb: "Kunne ikke starte møtet: {reason}",
    nn: "Kunne ikkje starte møtet: {reason}",
    en: "Could not host the meeting: {reason}",
  },
  screenShareNoDisplay: {
    nb: "Fant ingen skjerm å dele (DISPLAY er ikke satt).",
    nn: "Fann ingen skjerm å dele (DISPLAY er ikkje sett).",
    en: "There is no screen to share (DISPLAY is not set).",
  },
  screenShareFailed: {
    nb: "Kunne ikke dele skjermen: {reason}",
    nn: "Kunne ikkje dele skjermen: {reason}",
    en: "Could not share the screen: {reason}",
  },

  // ---- devices that could not be opened ----
  cameraMissing: {
    nb: "Fant ikke noe kamera. Du er med uten bilde.",
    nn: "Fann ikkje noko kamera. Du er med utan bilete.",
    en: "No camera was found. You are in without video.",
  },
  cameraBusy: {
    nb: "Kameraet brukes av et annet program. Lukk det der og slå på kameraet igjen.",
    nn: "Kameraet er i bruk i eit anna program. Lukk det der og slå på kameraet att.",
    en: "The camera is in use by another program. Close it there and turn the camera on again.",
  },
  cameraDenied: {
    nb: "Samla fikk ikke bruke kameraet. Gi tilgang i systeminnstillingene.",
    nn: "Samla fekk ikkje bruke kameraet. Gje tilgang i systeminnstillingane.",
    en: "Samla was not allowed to use the camera. Allow it in the system settings.",
  },
  cameraFailed: {
    nb: "Kameraet virket ikke. Du er med uten bilde.",
    nn: "Kameraet verka ikkje. Du er med utan bilete.",
    en: "The camera did not work. You are in without video.",
  },
  cameraLost: {
    nb: "Kameraet ble koblet fra. Du er med uten bilde – slå på kameraet igjen når det er tilbake.",
    nn: "Kameraet vart kopla frå. Du er med utan bilete – slå på kameraet att når det er tilbake.",
    en: "The camera was disconnected. You are in without video – turn the camera on again when it is back.",
  },
  microphoneMissing: {
    nb: "Fant ingen mikrofon. Du er med uten lyd.",
    nn: "Fann ingen mikrofon. Du er med utan lyd.",
    en: "No microphone was found. You are in without sound.",
  },
  microphoneBusy: {
    nb: "Mikrofonen brukes av et annet program.",
    nn: "Mikrofonen er i bruk i eit anna program.",
    en: "The microphone is in use by another program.",
  },
  microphoneDenied: {
    nb: "Samla fikk ikke bruke mikrofonen. Gi tilgang i systeminnstillingene.",
    nn: "Samla fekk ikkje bruke mikrofonen. Gje tilgang i systeminnstillingane.",
    en: "Samla was not allowed to use the microphone. Allow it in the system settings.",
  },
  microphoneFailed: {
    nb: "Mikrofonen virket ikke. Du er med uten lyd.",
    nn: "Mikrofonen verka ikkje. Du er med utan lyd.",
    en: "The microphone did not work. You are in without sound.",
  },

  // ---- choosing what to share ----
  shareDialogTitle: { nb: "Hva vil du dele?", nn: "Kva vil du dele?", en: "What do you want to share?" },
  shareScreens: { nb: "Skjermer", nn: "Skjermar", en: "Screens" },
  shareWindows: { nb: "Vinduer", nn: "Vindauge", en: "Windows" },
  shareAllScreens: { nb: "Hele skjermen", nn: "Heile skjermen", en: "The whole screen" },
  shareNoWindows: { nb: "Ingen vinduer å dele.", nn: "Ingen vindauge å dele.", en: "No windows to share." },
  // Wayland: the desktop's own dialog asks which screen or window.
  shareScreenBySystem: {
    nb: "Velg skjerm i systemets delingsvindu",
    nn: "Vel skjerm i delingsvindauget til systemet",
    en: "Choose a screen in the system's sharing dialog",
  },
  shareWindowBySystem: {
    nb: "Velg vindu i systemets delingsvindu",
    nn: "Vel vindauge i delingsvindauget til systemet",
    en: "Choose a window in the system's sharing dialog",
  },
  shareLooking: {
    nb: "Ser etter skjermer og vinduer …",
    nn: "Ser etter skjermar og vindauge …",
    en: "Looking for screens and windows…",
  },
  shareChosen: { nb: "Del", nn: "Del", en: "Share" },
  shareRefresh: { nb: "Oppdater listen", nn: "Oppdater lista", en: "Refresh the list" },
} as const satisfies Readonly<Record<string, Entry>>;

export type MessageKey = keyof typeof messages;
