"""Action plans: the lines of work carried forward become plans, co-written live and exported."""
