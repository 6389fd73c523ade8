"""进销存 reports: stock in/out/balance (收发存汇总表), purchases, sales and gross margin, with
charts and spreadsheet export. Pages under /erp/reports/, API under /api/v1/erp/reports/."""
