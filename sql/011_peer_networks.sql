-- 011_peer_networks: a DICOM peer is bound to the network it sends from.
--
-- An AE title is a name the sender chooses: anyone who can reach the
-- receiver could call itself QX_PACS.  Each registered peer now names
-- the host or network its associations come from, and zhiying-scp
-- refuses (and audits) one from elsewhere.  Peers registered before this
-- migration are bound to the local host: until their operator sets their
-- network (zhiying-admin peer set AE --network CIDR) only a sender on the
-- receiver's own machine may use their titles.

ALTER TABLE dicom_peers ADD COLUMN network cidr;
UPDATE dicom_peers SET network = '127.0.0.1/32' WHERE network IS NULL;
ALTER TABLE dicom_peers ALTER COLUMN network SET NOT NULL;
