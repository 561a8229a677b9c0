/* xl disk specifications: every form xl accepts and every error it reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "toolstack/xlcfg.h"

static struct xlcfg_disk d;
static char err[1024];

static void ok(const char *spec)
{
    err[0] = '\0';
    if (xlcfg_parse_disk(spec, &d, err, sizeof(err)) != 0)
        fail_msg("'%s' failed: %s", spec, err);
}

/* The spec must fail; the message must name the problem and quote the spec. */
static void bad(const char *spec, const char *why)
{
    err[0] = '\0';
    if (xlcfg_parse_disk(spec, &d, err, sizeof(err)) != -1)
        fail_msg("'%s' was accepted", spec);
    if (!strstr(err, why))
        fail_msg("'%s': error '%s' lacks '%s'", spec, err, why);
    /* the spec is quoted, cut after 80 characters */
    char head[81];
    snprintf(head, sizeof(head), "%s", spec);
    if (!strstr(err, head))
        fail_msg("'%s': error '%s' does not quote the spec", spec, err);
    if (strlen(spec) > 80 && !strstr(err, "...'"))
        fail_msg("'%s': error '%s' does not cut the spec", spec, err);
}

static void expect(const char *target, const char *vdev, const char *format, const char *access,
                   const char *backendtype, const char *script)
{
    assert_string_equal(d.target, target);
    assert_string_equal(d.vdev, vdev);
    assert_string_equal(d.format, format);
    assert_string_equal(d.access, access);
    assert_string_equal(d.backendtype, backendtype);
    assert_string_equal(d.script, script);
}

static void test_positional_with_prefix(void **state)
{
    (void)state;
    ok("phy:/dev/loop0,xvda,w");
    expect("/dev/loop0", "xvda", "raw", "rw", "", "");
    assert_int_equal(d.discard, -1);
    assert_false(d.cdrom);
    assert_true(d.trusted);
    ok("file:/images/g.img,xvdb,r");
    expect("/images/g.img", "xvdb", "raw", "ro", "", "");
    ok("tap:aio:/images/g.img,xvdc,ro");
    expect("/images/g.img", "xvdc", "raw", "ro", "", "");
    ok("tap:qcow2:/images/g.qcow2,xvdd,w");
    expect("/images/g.qcow2", "xvdd", "qcow2", "rw", "", "");
    ok("iscsi:iqn.2001-05.com.example:disk1,xvde,w");
    expect("iqn.2001-05.com.example:disk1", "xvde", "raw", "rw", "", "block-iscsi");
}

static void test_positional_four(void **state)
{
    (void)state;
    ok("/images/g.img,raw,xvda,rw");
    expect("/images/g.img", "xvda", "raw", "rw", "", "");
    ok("/images/g.qcow2,qcow2,hda,r");
    expect("/images/g.qcow2", "hda", "qcow2", "ro", "", "");
    ok("/images/g.img,,xvdb");
    expect("/images/g.img", "xvdb", "raw", "rw", "", "");
    /* positional parameters after keyword ones */
    ok("backendtype=phy, /images/g.img, raw, xvdf, w");
    expect("/images/g.img", "xvdf", "raw", "rw", "phy", "");
}

static void test_keyword_form(void **state)
{
    (void)state;
    ok("vdev=xvda,access=rw,backendtype=phy,script=block-pvback,target=/data/file.img");
    expect("/data/file.img", "xvda", "raw", "rw", "phy", "block-pvback");
    ok("format=qcow2, vdev=xvdb, access=ro, backendtype=qdisk, target=/a,b:c=d.qcow2");
    expect("/a,b:c=d.qcow2", "xvdb", "qcow2", "ro", "qdisk", "");
    ok("vdev=xvdc,backendtype=tap,format=vhd,target=/x.vhd,");
    expect("/x.vhd", "xvdc", "vhd", "rw", "tap", "");
    /* target= swallows everything after it, as in xl */
    ok("vdev=xvda,target=/a,target=/b");
    assert_string_equal(d.target, "/a,target=/b");
    ok("vdev=xvdd,target=iscsi://10.0.0.1/iqn.2001-05.com.example:t/1");
    expect("iscsi://10.0.0.1/iqn.2001-05.com.example:t/1", "xvdd", "raw", "rw", "", "");
    ok("vdev=xvde,access=r,target=nfs://server/export/g.img");
    expect("nfs://server/export/g.img", "xvde", "raw", "ro", "", "");
    assert_string_equal(d.chap_file, "");
    /* pvback's chap-file key */
    ok("vdev=xvdf,chap-file=/etc/pvback/disk1.chap,target=iscsi://san/iqn.2001-05.com.example:t/1");
    expect("iscsi://san/iqn.2001-05.com.example:t/1", "xvdf", "raw", "rw", "", "");
    assert_string_equal(d.chap_file, "/etc/pvback/disk1.chap");
}

static void test_flags(void **state)
{
    (void)state;
    ok("discard,vdev=xvda,target=/a");
    assert_int_equal(d.discard, 1);
    ok("no-discard,vdev=xvda,target=/a");
    assert_int_equal(d.discard, 0);
    ok("direct-io-safe,untrusted,vdev=xvda,target=/a");
    assert_true(d.direct_io_safe);
    assert_false(d.trusted);
    ok("/a,raw,xvda,w,discard");
    assert_int_equal(d.discard, 1);
    ok("vdev=xvda,specification=xen,grant_usage=0,target=/a");
}

static void test_cdrom(void **state)
{
    (void)state;
    ok("/iso/d.iso,raw,hdc,r,devtype=cdrom");
    assert_true(d.cdrom);
    expect("/iso/d.iso", "hdc", "raw", "ro", "", "");
    ok("file:/iso/d.iso,hdc:cdrom,r");
    assert_true(d.cdrom);
    expect("/iso/d.iso", "hdc", "raw", "ro", "", "");
    /* cdrom forces read-only and an empty target means an empty drive */
    ok(",hdc:cdrom,w");
    assert_true(d.cdrom);
    expect("", "hdc", "empty", "ro", "", "");
    ok("vdev=xvdz,cdrom");
    expect("", "xvdz", "empty", "ro", "", "");
    ok("phy:/dev/sr0,xvdb:disk,w");
    assert_false(d.cdrom);
}

static void test_errors(void **state)
{
    (void)state;
    /* without a prefix the second positional parameter is the format */
    bad("/images/g.img,xvda,w", "unknown value for format: near 'xvda'");
    bad("/a,raw,xvda,w,extra", "too many positional parameters");
    bad("/a,raw,xvda,rwx", "unknown value for access");
    bad("vdev=xvda,access=write,target=/a", "unknown value for access");
    bad("vdev=xvda,format=vmdk,target=/a", "unknown value for format");
    bad("vdev=xvda,format=qcow2,format=raw,target=/a", "format respecified");
    bad("vdev=xvda,backendtype=nbd,target=/a", "unknown value for backendtype");
    bad("vdev=xvda,backendtype=standalone,target=/a", "specification=virtio");
    bad("vdev=xvda,backendtype=phy,backendtype=tap,target=/a", "backendtype respecified");
    bad("vdev=xvda,specification=virtio,target=/a", "not supported");
    bad("vdev=xvda,specification=scsi,target=/a", "unknown value for specification");
    bad("vdev=xvda,devtype=floppy,target=/a", "unknown value for type");
    bad("vdev=xvda,vdev=xvdb,target=/a", "vdev respecified");
    bad("vdev=xvda,colour=red,target=/a", "unknown parameter: near 'colour=red'");
    bad("vdev=xvda,backend=dd1,target=/a", "driver domains");
    bad("vdev=xvda,colo,target=/a", "COLO");
    bad("foo:/a,xvda,w", "unknown deprecated disk prefix");
    bad("phy:/dev/sr0,xvdb:floppy,r", "unknown deprecated type");
    bad("vdev=xvda,script=a,script=b,target=/a", "script respecified");
    bad("vdev=xvda,chap-file=secrets,target=/a", "chap-file must be an absolute path");
    bad("iscsi:iqn.x,xvda,w,script=b", "script respecified");
    bad("phy:a=b,xvda,w", "unknown parameter: near 'phy:a=b'");
    bad("vdev=xvda,=x,target=/a", "bad disk syntax: near '=x'");
    bad("vdev=xvda,colo-host=h,target=/a", "COLO");
    bad("vdev=xvda,grant_usage=2,target=/a", "unknown parameter");
    bad("phy:/a,xvdaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:cdrom,r", "vdev is too long");
    bad("target=/a", "no vdev specified");
    bad("vdev=vda,target=/a", "invalid or unsupported virtual disk identifier: near 'vda'");
    bad("phy:/a, xvda ,w", "invalid or unsupported virtual disk identifier: near 'xvda '");
    bad("vdev=xvda", "no target specified");
    bad(",raw,xvda,w", "no target specified");
    bad("vdev=xvda,format=empty,target=/a", "empty disk must be a cdrom");
    bad("/a,raw,xvda,w,target=/b", "target respecified");
    char longv[80];
    memset(longv, 'x', sizeof(longv));
    memcpy(longv, "vdev=", 5);
    strcpy(longv + 60, ",target=/a");
    bad(longv, "vdev is longer than");
    static char longt[1200];
    memset(longt, 'x', sizeof(longt) - 1);
    memcpy(longt, "vdev=xvda,target=", 17);
    bad(longt, "target is longer than");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positional_with_prefix),
        cmocka_unit_test(test_positional_four),
        cmocka_unit_test(test_keyword_form),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_cdrom),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
