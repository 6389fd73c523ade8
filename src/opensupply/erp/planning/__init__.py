"""ERP production planning (MRP): planning policies, independent demand, MRP runs that turn gross
requirements into planned purchase and work orders with pegging, and firming them into real documents."""
