//! Rate limiting of passcode guesses (stub; being written).
