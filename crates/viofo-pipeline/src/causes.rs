//! An error as one line for people: each of its causes once.

/// The error and its causes, each once: a layer whose text already ends
/// with its cause's text (one that embeds its source) is cut back to its
/// own words, and a text already said is not said again.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    // The camera unreachable, or something else answering: its words for
    // people say the cause once and what to try (issue 21).
    if let Some(words) = e
        .downcast_ref::<viofo_client::Error>()
        .and_then(viofo_client::Error::for_people)
    {
        return words;
    }
    let mut texts = Vec::new();
    let mut next = Some(e);
    while let Some(cause) = next {
        texts.push(cause.to_string());
        next = cause.source();
    }
    join_once(texts)
}

/// [`one_line`] of texts already taken from an error chain, outermost
/// first (an `anyhow::Error`'s `chain()`).
pub fn join_once(texts: Vec<String>) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let mut own = text.as_str();
        if let Some(next) = texts.get(i + 1)
            && let Some(head) = own.strip_suffix(next.as_str())
        {
            own = head.trim_end().trim_end_matches(':').trim_end();
        }
        if !own.is_empty() && !parts.iter().any(|p| p.contains(own)) {
            parts.push(own);
        }
    }
    parts.join(": ")
}
