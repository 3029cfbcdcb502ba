-- A secret an e-mail carries (an invitation's token) is never stored in clear: it arrives
-- sealed for engagement's mail key (subgraph_kit::sealed), the body holds a placeholder, and
-- the mailer opens the secret only to send, then erases it — once the message is sent or
-- given up, nothing of the secret is left.
alter table emails add column sealed_secret text;
alter table emails add constraint emails_secret_only_while_pending
    check (sealed_secret is null or status = 'PENDING');
