package com.acme.ledger;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

public class LedgerDao {
    private static final String BALANCE = """
        SELECT SUM(amt) AS balance
        FROM sales.orders
        WHERE cust_id = ?
        """;

    private final Connection connection;

    public LedgerDao(Connection connection) {
        this.connection = connection;
    }

    public BigDecimal balance(String customer) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(BALANCE)) {
            statement.setString(1, customer);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getBigDecimal("balance") : BigDecimal.ZERO;
            }
        }
    }
}
