"""Emergency stockpiles (应急物资储备): depots, items, lots, the ledger, targets and gaps."""
