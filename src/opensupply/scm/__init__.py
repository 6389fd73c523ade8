"""SCM — supply chain planning: demand forecasts per SKU feeding MRP."""
