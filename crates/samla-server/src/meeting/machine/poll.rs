//! A meeting's poll: the question a host puts to the meeting, the answers, and who may see
//! what of them. Answers are kept per person only so that answering again replaces one's
//! answer; what leaves the server are counts, and each person's own answer to them alone.

use std::collections::HashMap;

use samla_protocol::{
    ErrorCode, ParticipantId, PollView, MAX_POLL_OPTIONS, MAX_POLL_OPTION_CHARS,
    MAX_POLL_QUESTION_CHARS,
};

use super::{refused, trimmed, Refused};

// The refusal texts below spell the limits out; keep them true.
const _: () = assert!(
    MAX_POLL_QUESTION_CHARS == 300 && MAX_POLL_OPTION_CHARS == 100 && MAX_POLL_OPTIONS == 10
);

const BAD_QUESTION: Refused = refused(
    ErrorCode::InvalidArgument,
    "a poll question has 1 to 300 characters",
);
const BAD_OPTION_COUNT: Refused =
    refused(ErrorCode::InvalidArgument, "a poll offers 2 to 10 answers");
const BAD_OPTION: Refused = refused(
    ErrorCode::InvalidArgument,
    "a poll answer has 1 to 100 characters",
);
const ENDED: Refused = refused(ErrorCode::NotAllowed, "the poll has ended");

pub(super) struct Poll {
    id: u32,
    by: ParticipantId,
    question: String,
    options: Vec<String>,
    multiple: bool,
    open: bool,
    shared: bool,
    answers: HashMap<ParticipantId, Vec<u8>>,
    /// How many picked each option, kept as answers come and change.
    counts: Vec<u32>,
}

impl Poll {
    /// A new, open poll, or why the question or its answers are refused. Texts are trimmed.
    pub(super) fn new(
        id: u32,
        by: ParticipantId,
        question: String,
        options: Vec<String>,
        multiple: bool,
    ) -> Result<Self, Refused> {
        let question = trimmed(question);
        if question.is_empty() || question.chars().count() > MAX_POLL_QUESTION_CHARS {
            return Err(BAD_QUESTION);
        }
        if !(2..=MAX_POLL_OPTIONS).contains(&options.len()) {
            return Err(BAD_OPTION_COUNT);
        }
        let options = options
            .into_iter()
            .map(|o| {
                let o = trimmed(o);
                if o.is_empty() || o.chars().count() > MAX_POLL_OPTION_CHARS {
                    Err(BAD_OPTION)
                } else {
                    Ok(o)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            id,
            by,
            question,
            counts: vec![0; options.len()],
            options,
            multiple,
            open: true,
            shared: false,
            answers: HashMap::new(),
        })
    }

    pub(super) fn is_open(&self) -> bool {
        self.open
    }

    pub(super) fn id(&self) -> u32 {
        self.id
    }

    /// Takes (or replaces) `voter`'s answer: option indexes, one unless the poll allows more.
    pub(super) fn answer(&mut self, voter: ParticipantId, choices: Vec<u8>) -> Result<(), Refused> {
        if !self.open {
            return Err(ENDED);
        }
        let mut choices = choices;
        choices.sort_unstable();
        choices.dedup();
        let fits = choices.iter().all(|&c| usize::from(c) < self.options.len());
        let count_ok = if self.multiple {
            !choices.is_empty()
        } else {
            choices.len() == 1
        };
        if !fits || !count_ok {
            return Err(refused(
                ErrorCode::InvalidArgument,
                if self.multiple {
                    "pick one or more of the poll's answers"
                } else {
                    "pick one of the poll's answers"
                },
            ));
        }
        for &c in &choices {
            self.counts[usize::from(c)] += 1;
        }
        if let Some(old) = self.answers.insert(voter, choices) {
            for c in old {
                self.counts[usize::from(c)] -= 1;
            }
        }
        Ok(())
    }

    /// Stops taking answers; false if it had already stopped.
    pub(super) fn end(&mut self) -> bool {
        std::mem::replace(&mut self.open, false)
    }

    /// Shows the results to everyone; only once the poll has ended. False if already shown.
    pub(super) fn share(&mut self) -> Result<bool, Refused> {
        if self.open {
            return Err(refused(
                ErrorCode::NotAllowed,
                "end the poll before sharing its results",
            ));
        }
        Ok(!std::mem::replace(&mut self.shared, true))
    }

    /// The poll as `viewer` sees it: counts if they moderate or the results are shared, and
    /// their own answer.
    pub(super) fn view(&self, viewer: ParticipantId, moderator: bool) -> PollView {
        PollView {
            id: self.id,
            by: self.by,
            question: self.question.clone(),
            options: self.options.clone(),
            multiple: self.multiple,
            open: self.open,
            answered: self.answers.len() as u32,
            results: (moderator || self.shared).then(|| self.counts.clone()),
            shared: self.shared,
            mine: self.answers.get(&viewer).cloned().unwrap_or_default(),
        }
    }
}
