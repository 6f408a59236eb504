/* The four demo API modules' requests (Jobs, E-commerce, Notifications,
 * Profile) once routed: their JSON bodies checked before the database query,
 * and their answers once it completes. Called by routes.c and server.c. */
#ifndef STRAIN_TARGET_MODULES_H
#define STRAIN_TARGET_MODULES_H

typedef struct tgt_conn tgt_conn;

/* Validates the body of c's module request and stores what the answer needs
 * in c->req. Returns 0, or -1 after answering 400. */
int module_body_check(tgt_conn *c);
/* c's database query finished: answers the request (with Server-Timing). */
void module_complete(tgt_conn *c);

#endif
