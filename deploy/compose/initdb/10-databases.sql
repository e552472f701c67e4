CREATE DATABASE meshwork_chain;
CREATE DATABASE meshwork_facilitator;
CREATE DATABASE meshwork_validator;
CREATE DATABASE meshwork_miner;
