/* SPDX-License-Identifier: BSD-3-Clause */
/* Interface table: built from the guide's configs, Virtual-Access cloning, negotiated addresses. */
#include <stdlib.h>
#include <string.h>

#include "fh_iface.h"
#include "fh_test.h"

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	char path[512];
	struct fh_cfg_errs errs = {0};
	struct fh_iface_table t;
	struct fh_config *cfg;
	uint32_t a;
	uint8_t l;
	int vt, va1, va2, tu, svt;

	snprintf(path, sizeof(path), "%s/config/hub.yaml", root);
	cfg = fh_config_load_file(path, &errs);
	if (!fh_check(cfg != NULL && fh_iface_table_build(&t, cfg, 64) == 0, "hub table builds"))
		return fh_test_done();
	vt = fh_iface_find(&t, "Virtual-Template1");
	fh_check(vt >= 0 && fh_iface_addr(&t, vt, &a, &l) && a == 0x0a010101, "Virtual-Template1 shows Loopback1's address");
	fh_check(t.v[fh_iface_find(&t, "GigabitEthernet1")].port == 0 && t.v[fh_iface_find(&t, "GigabitEthernet2")].port == 1,
		 "physical interfaces get ports in config order");
	va1 = fh_iface_clone_vaccess(&t, vt);
	va2 = fh_iface_clone_vaccess(&t, vt);
	fh_check(va1 >= 0 && strcmp(t.v[va1].name, "Virtual-Access1") == 0 && va2 >= 0 &&
			 strcmp(t.v[va2].name, "Virtual-Access2") == 0,
		 "clones are numbered Virtual-Access1, 2");
	fh_check(fh_iface_addr(&t, va2, &a, &l) && a == 0x0a010101 && t.v[va2].method == FH_IFM_UNSET,
		 "a clone is unnumbered like its template");
	fh_check(fh_iface_clone_vaccess(&t, fh_iface_find(&t, "Loopback1")) < 0, "only templates clone");
	fh_check(fh_iface_remove(&t, va1) == 0 && fh_iface_find(&t, "Virtual-Access1") < 0 &&
			 fh_iface_find(&t, "Virtual-Access2") >= 0,
		 "a clone is removed, the other stays");
	fh_check(fh_iface_remove(&t, vt) < 0, "configured interfaces are not removed");
	va1 = fh_iface_clone_vaccess(&t, vt);
	fh_check(va1 >= 0 && strcmp(t.v[va1].name, "Virtual-Access1") == 0, "the lowest free number is given again (IOS)");
	fh_check(strcmp(t.v[fh_iface_clone_vaccess(&t, vt)].name, "Virtual-Access3") == 0, "then the next one");
	{
		/* numbers against a model: 3,000 clones and removes in random order */
		static int slot_of[4096];
		static bool used[4096];
		bool ok = true;

		memset(slot_of, -1, sizeof(slot_of));
		for (int u = 1; u <= 3; u++) {
			char nm[32];

			snprintf(nm, sizeof(nm), "Virtual-Access%d", u);
			slot_of[u] = fh_iface_find(&t, nm);
			used[u] = true;
		}
		srand(7);
		for (int i = 0, n = 3; i < 3000 && ok; i++) {
			if (rand() % 2 == 0 && n < 40) {
				int want = 1, s;

				while (used[want])
					want++;
				s = fh_iface_clone_vaccess(&t, vt);
				ok = s >= 0 && t.v[s].unit == (uint32_t)want;
				used[want] = true;
				slot_of[want] = s;
				n++;
			} else {
				int u = 4 + rand() % 40; /* 1 to 3 stay for the checks below */

				if (!used[u])
					continue;
				ok = fh_iface_remove(&t, slot_of[u]) == 0;
				used[u] = false;
				n--;
			}
		}
		fh_check(ok, "3,000 random clones and removes: every clone gets the lowest free number");
		for (int u = 1; u < 4096; u++)
			if (used[u] && u > 3)
				fh_iface_remove(&t, slot_of[u]);
	}
	fh_check(fh_iface_find(&t, "Virtual-Access2") == va2, "removing a clone moved no other slot");
	{
		/* a reload that drops an interface in the middle: the others keep slot and handle */
		fh_handle_t h_lo = t.v[fh_iface_find(&t, "Loopback1")].handle, h_vt = t.v[vt].handle, h_gone;
		int gone_slot = -1, lo = fh_iface_find(&t, "Loopback1");
		struct fh_config *c2;
		struct fh_cfg_errs e2 = {0};

		h_gone = t.v[fh_iface_find(&t, "GigabitEthernet2")].handle;
		c2 = fh_config_load_file(path, &e2);
		/* the same config with GigabitEthernet2's entry renamed: one goes, one comes */
		if (c2 != NULL) {
			int gi = fh_config_iface_find(c2, "GigabitEthernet2");

			snprintf(c2->iface[gi].hdr.name, sizeof(c2->iface[gi].hdr.name), "GigabitEthernet9");
		}
		fh_check(c2 != NULL && fh_iface_table_sync(&t, c2, NULL, NULL) == 0, "reload sync");
		fh_check(fh_iface_slot(&t, h_lo) == lo && fh_iface_slot(&t, h_vt) == vt && fh_iface_find(&t, "Loopback1") == lo,
			 "kept interfaces keep slot and handle across a reload");
		gone_slot = fh_iface_find(&t, "GigabitEthernet9");
		fh_check(fh_iface_slot(&t, h_gone) < 0 && fh_iface_find(&t, "GigabitEthernet2") < 0 && gone_slot >= 0,
			 "the removed one's handle is stale, the new one has a slot (%d)", gone_slot);
		fh_check(fh_iface_find(&t, "Virtual-Access2") == va2, "clones survive a reload");
		fh_config_free(c2);
	}
	fh_iface_table_free(&t);
	fh_config_free(cfg);

	snprintf(path, sizeof(path), "%s/config/spoke1.yaml", root);
	memset(&errs, 0, sizeof(errs));
	cfg = fh_config_load_file(path, &errs);
	if (!fh_check(cfg != NULL && fh_iface_table_build(&t, cfg, 64) == 0, "spoke table builds"))
		return fh_test_done();
	tu = fh_iface_find(&t, "Tunnel0");
	svt = fh_iface_find(&t, "Virtual-Template1");
	fh_check(!fh_iface_addr(&t, tu, &a, &l) && !fh_iface_addr(&t, svt, &a, &l),
		 "negotiated Tunnel0 and its unnumbered template have no address yet");
	fh_check(fh_iface_set_negotiated(&t, tu, 0x0a010108, 32) == 0 && fh_iface_addr(&t, svt, &a, &l) &&
			 a == 0x0a010108 && t.v[tu].method == FH_IFM_NEGOTIATED,
		 "mode-config address 10.1.1.8 shows on Tunnel0 and Virtual-Template1");
	fh_check(fh_iface_set_negotiated(&t, fh_iface_find(&t, "GigabitEthernet1"), 1, 32) < 0,
		 "only tunnels take negotiated addresses");
	fh_iface_table_free(&t);
	fh_config_free(cfg);
	return fh_test_done();
}
