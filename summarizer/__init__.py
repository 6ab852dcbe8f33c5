"""Understanding an article: reading, summaries, quotes, dates and answers.

Nothing here knows about chat platforms or databases.
"""
