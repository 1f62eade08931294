"""Report rendering (HTML, Markdown, CSV) from the metric tables."""
