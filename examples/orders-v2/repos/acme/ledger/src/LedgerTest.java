package com.acme.ledger;

import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import org.junit.Before;
import org.junit.Test;

public class LedgerTest {
    private Ledger ledger;

    @Before
    public void setUp() {
        ledger = new Ledger(new ArrayList<>());
    }

    @Test
    public void emptyLedgerIsClosed() {
        assertTrue(ledger.isClosed());
    }
}
