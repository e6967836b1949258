package com.acme.ledger;

import java.util.List;

public class Ledger {
    private final List<Long> entries;

    public Ledger(List<Long> entries) {
        this.entries = entries;
    }

    public boolean isClosed() {
        return entries.size() == 0;
    }

    public Long first() {
        return new Long(entries.get(0));
    }
}
