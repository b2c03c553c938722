"""One-off studies: each answered a question once (BENCHMARKS.md gives the answer and the command)
and is kept so the answer can be checked again. Not part of `make bench`."""
