"""`opensupply bench orders`: a TPC-C-style order flow on OpenSupply's own model.

TPC-C's five transactions mapped onto the ERP (see bench/README.md for the whole mapping):

| TPC-C        | here                                                                                   |
|--------------|----------------------------------------------------------------------------------------|
| New-Order    | a sales order of 5–15 lines (avg 10) confirmed at once: stock reserved per line,       |
|              | waiting delivery opened; 1 % name an unknown item on the last line and roll back        |
| Payment      | a customer receipt: settles the oldest open invoices (Cr 1122), rest to 2203 预收        |
| Delivery     | for each of the warehouse's 10 districts, the oldest undelivered order is shipped       |
|              | (stock moves, COGS) and invoiced (Dr 1122 / Cr 6001 / Cr 222102, credit applied)         |
| Order-Status | the customer's last order with its lines and delivery state (read only)                |
| Stock-Level  | distinct items of the district's last 20 orders whose available stock is below a       |
|              | threshold (read only)                                                                  |

A district is a group of customers (codes W<w>D<d>C<c>); a warehouse is an OpenSupply warehouse
with its own stock of every item. The mix is TPC-C's 45/43/4/4/4. The same five transactions
run twice: through the services (audit, events, sequences, checks) and as hand-written SQL, one
statement per row, writing the same rows — so the ratio is the cost of our code.
"""
