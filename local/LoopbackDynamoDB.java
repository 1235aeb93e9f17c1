import com.almworks.sqlite4java.SQLiteConnection;
import com.almworks.sqlite4java.SQLiteJob;
import com.almworks.sqlite4java.SQLiteQueue;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.AbstractLocalDynamoDBServerHandler;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.shared.access.LocalDBClient;
import software.amazon.dynamodb.services.local.shared.access.sqlite.SQLiteDBAccess;

/**
 * Amazon DynamoDB Local listening on 127.0.0.1 only (baton_local.ddblocal runs it). DynamoDB
 * Local's own launcher binds every interface and has no option to choose one: anyone who could
 * reach the machine would read and write every tenant's data past the API. This launcher builds
 * the same server from the same command line and binds its connector to loopback before it starts.
 *
 * <p>It also indexes the engine's stream bookkeeping. Every request DynamoDB Local serves reads
 * the table's stream description, whose query takes the lowest sequence number of the stream's
 * records ({@code SELECT MIN(SequenceNumber) FROM us WHERE StreamID=?}) from the one SQLite
 * table holding every stream record of every table, indexed by sequence number only: each
 * request scanned every record ever written on the engine, so an engine slowed down with every
 * write it took (three times slower per request after 400 small test tables, far more after a
 * test writing thousands of items). The indexes make it a lookup; nothing DynamoDB Local answers
 * changes (the same rows, found through an index). Were the engine's internals ever to move, the
 * engine starts without them, as it did before, and says so on stderr.
 */
public final class LoopbackDynamoDB {
    private static final String[] INDEXES = {
        "CREATE INDEX IF NOT EXISTS baton_us_stream ON us (StreamID, SequenceNumber)",
        "CREATE INDEX IF NOT EXISTS baton_us_shard ON us (ShardID, SequenceNumber)",
        "CREATE INDEX IF NOT EXISTS baton_ss_stream ON ss (StreamID)",
    };

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Server server = (Server) field(DynamoDBProxyServer.class, "server").get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        try {
            indexStreams(proxy);
        } catch (Exception | LinkageError e) {
            System.err.println("LoopbackDynamoDB: stream records not indexed (" + e + ")");
        }
        proxy.start();
        proxy.join();
    }

    /** The shared database's SQLite queue (made now rather than at the first request) runs INDEXES. */
    private static void indexStreams(DynamoDBProxyServer proxy) throws Exception {
        Object handler = field(DynamoDBProxyServer.class, "serverHandler").get(proxy);
        Object requests = field(AbstractLocalDynamoDBServerHandler.class, "primaryHandler").get(handler);
        Method shared = LocalDynamoDBRequestHandler.class.getDeclaredMethod("getHandler", String.class);
        shared.setAccessible(true);
        Object client = shared.invoke(requests, "shared");  // -sharedDb: one database whatever the key
        Object access = field(LocalDBClient.class, "dbAccess").get(client);
        SQLiteQueue queue = (SQLiteQueue) field(SQLiteDBAccess.class, "queue").get(access);
        queue.execute(new SQLiteJob<Object>() {
            @Override
            protected Object job(SQLiteConnection connection) throws Throwable {
                for (String sql : INDEXES) {
                    connection.exec(sql);
                }
                return null;
            }
        }).complete();
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
