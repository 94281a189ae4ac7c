"""One job's figures, drawn from plain arrays and tables: shared drawing rules (style),
then one module per figure. Which figures a job draws is nnsweep.job.figures' choice."""
