/** PostgreSQL's port, the same on RDS and Flexible Server, where it cannot be changed. */
export const POSTGRES_PORT = 5432;
