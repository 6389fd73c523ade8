"""Inter-company trade inside a group (集团内部交易): a sales order confirmed to a partner that stands
for another company of the group appears there as a draft purchase order, and a confirmed purchase
order as a draft sales order — mirrored by event handlers, linked both ways, with the documents
that could not be mirrored on an exception list."""
