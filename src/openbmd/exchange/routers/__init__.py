"""One router per resource: partners, agreements, messages, log, feed."""
