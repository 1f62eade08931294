"""perftrust: performance-trust signals from git history and GitHub.

Conversation starters about *performance* trust, never a score or a leaderboard.
"""

__version__ = "0.1.0"
