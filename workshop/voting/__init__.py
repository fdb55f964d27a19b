"""Voting: ballots, votes and their tally (the tally itself is the pure module `tally`)."""
