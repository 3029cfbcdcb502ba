-- Logistics' letters reach the hub: their notifications, and activities on the client's
-- timeline that no member recorded (the system did: `created_by` null).
alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check check (kind in ('NEW_CLIENT',
    'NEW_CONTRACT', 'CONTRACT_EXPIRING', 'CONTRACT_EXPIRED', 'UNPAID_INVOICE', 'TASK_ASSIGNED',
    'REMINDER', 'ALERT', 'INFO', 'SYSTEM', 'SHIPMENT_DELIVERED', 'SHIPMENT_RETURNED',
    'SHIPMENT_FAILED'));

alter table activities alter column created_by drop not null;
