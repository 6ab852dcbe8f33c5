"""NewsBrief's application side: the command line, chat core, adapters and delivery."""
